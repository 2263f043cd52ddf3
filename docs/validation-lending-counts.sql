-- The counts of docs/VALIDATION.md "Next best action: offline evaluation before and after
-- responsible lending", against a demo store scored as of 2025-01-01 (change the dates for another).
.mode list
WITH credit AS (
  SELECT DISTINCT customer_id FROM recommendation
  WHERE status = 'proposed' AND (product_code LIKE 'LN-%' OR product_code LIKE 'CC-%')),
dpd AS (
  SELECT customer_id, MAX(d) AS d FROM (
    SELECT customer_id, days_past_due AS d FROM loan WHERE granted_on < '2025-01-01'
    UNION ALL SELECT customer_id, days_past_due FROM card_statement
      WHERE statement_month >= '2024-01-02' AND statement_month < '2025-01-01') GROUP BY customer_id),
band AS (SELECT customer_id, band FROM health_score WHERE as_of = '2025-01-01'),
distress AS (SELECT DISTINCT customer_id FROM alert WHERE status <> 'closed'
  AND rule IN ('income_stopped','balance_collapse','negative_balance','dpd_1_30','dpd_31_60','dpd_61_90','dpd_90_plus')),
care AS (SELECT customer_id FROM band WHERE band <> 'healthy'
  UNION SELECT customer_id FROM alert WHERE status <> 'closed' AND rule IN
  ('income_stopped','balance_collapse','negative_balance','dpd_1_30','dpd_31_60','dpd_61_90','dpd_90_plus','large_outflow','dormancy','complaint_escalation','cash_withdrawal_spike')),
first AS (SELECT customer_id, action FROM recommendation r WHERE status IN ('proposed','offered')
  AND rank = (SELECT MIN(rank) FROM recommendation x WHERE x.customer_id = r.customer_id AND x.status IN ('proposed','offered')))
SELECT 'customers proposed credit', COUNT(*) FROM credit
UNION ALL SELECT '… past due in 12 months', COUNT(*) FROM credit JOIN dpd USING (customer_id) WHERE d > 0
UNION ALL SELECT '… 90+ days past due', COUNT(*) FROM credit JOIN dpd USING (customer_id) WHERE d > 90
UNION ALL SELECT '… at-risk band', COUNT(*) FROM credit JOIN band USING (customer_id) WHERE band = 'at_risk'
UNION ALL SELECT '… open distress alert', COUNT(*) FROM credit JOIN distress USING (customer_id)
UNION ALL SELECT 'LN-MORT proposed to at-risk/watch', COUNT(DISTINCT r.customer_id) FROM recommendation r JOIN band USING (customer_id) WHERE r.product_code='LN-MORT' AND band <> 'healthy' AND r.status='proposed'
UNION ALL SELECT 'customers needing care', COUNT(*) FROM care
UNION ALL SELECT '… whose first action is not retention', COUNT(*) FROM care LEFT JOIN first USING (customer_id) WHERE first.action IS NULL OR first.action <> 'retention'
UNION ALL SELECT 'healthy customers proposed a sale', COUNT(DISTINCT r.customer_id) FROM recommendation r JOIN band USING (customer_id) WHERE band='healthy' AND r.action='sale' AND r.status='proposed'
UNION ALL SELECT 'healthy customers', COUNT(*) FROM band WHERE band='healthy';
