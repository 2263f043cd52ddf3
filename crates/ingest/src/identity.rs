//! Identity resolution at import time: is this customer row someone we know?
//!
//! For each cleaned customer record, in order:
//! 1. its own key (source, source_key) is already stored → `Unchanged` when the
//!    fingerprint is the same (counted as merged), a `duplicate_conflict`
//!    rejection when it differs;
//! 2. otherwise the store's identity candidates (same ID number or same phone)
//!    are asked [`rapport_domain::identity::same_person`]; a match by ID number
//!    wins; a match by phone and name is used only when it points at exactly
//!    one customer (two different people sharing a phone and name, e.g. two
//!    customers with different valid ID numbers, make the row ambiguous and it
//!    becomes a new customer);
//! 3. otherwise a new customer is inserted.
//!
//! Merges are recorded with a plain-language explanation in which ID numbers
//! and phone numbers are masked. Never logs personal data.

use crate::quarantine::{Outcome, Reason, Rejection};
use rapport_domain::identity::{same_person, Identity, MergeRule};
use rapport_domain::{fingerprint, CustomerRecord, PhoneNumber, ResidentId};
use rapport_store::{CustomerId, ImportSession, StoreError};

/// Masks an ID number for explanations: first 4 and last 4 characters kept.
pub fn mask_id_number(id: &str) -> String {
    mask(id, 4, 4)
}

/// Masks a phone number for explanations: the last 4 digits and everything
/// before the last 8 characters kept (`+8613812345678` → `+86138****5678`).
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    mask(phone, n.saturating_sub(8), 4)
}

fn mask(s: &str, keep_front: usize, keep_back: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= keep_front + keep_back {
        return "*".repeat(n);
    }
    let mut out: String = chars[..keep_front].iter().collect();
    out.push_str(&"*".repeat(n - keep_front - keep_back));
    out.extend(&chars[n - keep_back..]);
    out
}

/// The plain-language reason recorded with a merge.
pub fn merge_explanation(rec: &CustomerRecord, into: CustomerId, rule: MergeRule) -> String {
    let why = match rule {
        MergeRule::SameIdNumber => format!(
            "same valid ID number {}",
            rec.id_number
                .as_ref()
                .map_or_else(|| "?".to_string(), |i| mask_id_number(i.as_str()))
        ),
        MergeRule::SamePhoneAndName => format!(
            "same phone {} and same name (no conflicting ID number or birth date)",
            rec.phone
                .as_ref()
                .map_or_else(|| "?".to_string(), |p| mask_phone(p.as_str()))
        ),
        MergeRule::SamePhoneNameAndBirthDate => format!(
            "same phone {}, same name and same birth date",
            rec.phone
                .as_ref()
                .map_or_else(|| "?".to_string(), |p| mask_phone(p.as_str()))
        ),
    };
    format!(
        "source {} key {} joined customer {into}: {why}",
        rec.source, rec.source_key
    )
}

/// A stored candidate with its fields parsed back into domain values.
struct Candidate {
    id: CustomerId,
    id_number: Option<ResidentId>,
    phone: Option<PhoneNumber>,
    name: Option<String>,
    birth_date: Option<chrono::NaiveDate>,
}

/// Picks the customer `rec` should join, if any (see the module documentation).
fn choose(rec: &CustomerRecord, candidates: &[Candidate]) -> Option<(CustomerId, MergeRule)> {
    let me = Identity {
        id_number: rec.id_number.as_ref(),
        phone: rec.phone.as_ref(),
        name: rec.name.as_deref(),
        birth_date: rec.birth_date,
    };
    let mut by_id: Option<CustomerId> = None;
    let mut by_phone: Vec<(CustomerId, MergeRule)> = Vec::new();
    for c in candidates {
        let them = Identity {
            id_number: c.id_number.as_ref(),
            phone: c.phone.as_ref(),
            name: c.name.as_deref(),
            birth_date: c.birth_date,
        };
        match same_person(&me, &them) {
            Some(MergeRule::SameIdNumber) => by_id = Some(by_id.map_or(c.id, |b| b.min(c.id))),
            Some(rule) => by_phone.push((c.id, rule)),
            None => {}
        }
    }
    if let Some(id) = by_id {
        return Some((id, MergeRule::SameIdNumber));
    }
    by_phone.sort_by_key(|(id, _)| *id);
    by_phone.dedup_by_key(|(id, _)| *id);
    match by_phone.as_slice() {
        [one] => Some(*one),
        [] => None,
        _ => {
            tracing::info!(
                candidates = by_phone.len(),
                "phone and name match several customers; not merged"
            );
            None
        }
    }
}

/// Loads one customer record: unchanged, conflict, merge or insert.
pub(crate) async fn resolve_customer(
    s: &mut ImportSession,
    rec: &CustomerRecord,
) -> Result<Outcome, StoreError> {
    if let Some((_, stored)) = s.customer_by_key(&rec.source, &rec.source_key).await? {
        return Ok(if stored == fingerprint(rec) {
            Outcome::Merged
        } else {
            Outcome::Rejected(Rejection::new(
                Reason::DuplicateConflict,
                "source_key",
                "this customer key is already stored with different content",
            ))
        });
    }
    if rec.id_number.is_some() || rec.phone.is_some() {
        let rows = s
            .identity_candidates(rec.id_number.as_ref(), rec.phone.as_ref())
            .await?;
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|r| Candidate {
                id: r.id,
                id_number: r
                    .id_number
                    .as_deref()
                    .and_then(|v| ResidentId::parse(v).ok()),
                phone: r
                    .phone
                    .as_deref()
                    .and_then(|v| PhoneNumber::parse(v, "86").ok()),
                name: r.name,
                birth_date: r.birth_date,
            })
            .collect();
        if let Some((into, rule)) = choose(rec, &candidates) {
            let explanation = merge_explanation(rec, into, rule);
            s.merge_customer(into, rec, rule, &explanation).await?;
            return Ok(Outcome::Merged);
        }
    }
    s.insert_customer(rec).await?;
    Ok(Outcome::Loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn rec(key: &str, id: Option<&str>, phone: Option<&str>, name: Option<&str>) -> CustomerRecord {
        CustomerRecord {
            source: "crm".into(),
            source_key: key.into(),
            name: name.map(str::to_string),
            gender: None,
            birth_date: None,
            id_number: id.and_then(|i| ResidentId::parse(i).ok()),
            phone: phone.and_then(|p| PhoneNumber::parse(p, "86").ok()),
            email: None,
            city: None,
            occupation: None,
            annual_income: None,
            risk_tolerance: None,
            risk_assessed_on: None,
            branch: None,
            attributes: None,
            flags: vec![],
        }
    }

    fn cand(id: CustomerId, r: &CustomerRecord) -> Candidate {
        Candidate {
            id,
            id_number: r.id_number.clone(),
            phone: r.phone.clone(),
            name: r.name.clone(),
            birth_date: r.birth_date,
        }
    }

    #[test]
    fn explanations_mask_id_numbers_and_phones() {
        let r = rec(
            "K7",
            Some("11010519491231002X"),
            Some("13812345678"),
            Some("王伟"),
        );
        assert_eq!(
            merge_explanation(&r, 12, MergeRule::SameIdNumber),
            "source crm key K7 joined customer 12: same valid ID number 1101**********002X"
        );
        assert!(merge_explanation(&r, 12, MergeRule::SamePhoneAndName).contains("+86138****5678"));
        assert!(!merge_explanation(&r, 12, MergeRule::SamePhoneAndName).contains("13812345678"));
    }

    #[test]
    fn an_id_number_match_wins_over_a_phone_match() {
        let me = rec(
            "a",
            Some("11010519491231002X"),
            Some("13812345678"),
            Some("王伟"),
        );
        let other = rec("b", None, Some("13812345678"), Some("王伟"));
        let same = rec("c", Some("11010519491231002X"), None, None);
        assert_eq!(
            choose(&me, &[cand(3, &other), cand(5, &same)]),
            Some((5, MergeRule::SameIdNumber))
        );
    }

    #[test]
    fn a_phone_and_name_matching_two_people_is_ambiguous() {
        let me = rec("a", None, Some("13812345678"), Some("王伟"));
        let b = ResidentId::compose(
            110105,
            NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or_default(),
            11,
        );
        let c = ResidentId::compose(
            110105,
            NaiveDate::from_ymd_opt(1981, 1, 1).unwrap_or_default(),
            13,
        );
        let mut x = rec("x", None, Some("13812345678"), Some("王伟"));
        x.id_number = Some(b);
        let mut y = rec("y", None, Some("13812345678"), Some("王伟"));
        y.id_number = Some(c);
        assert_eq!(choose(&me, &[cand(1, &x), cand(2, &y)]), None);
        assert_eq!(
            choose(&me, &[cand(1, &x)]),
            Some((1, MergeRule::SamePhoneAndName))
        );
    }

    #[test]
    fn masking_short_values_hides_everything() {
        assert_eq!(mask_phone("+123"), "****");
        assert_eq!(mask_id_number("1234567"), "*******");
    }
}
