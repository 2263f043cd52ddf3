//! Cases and complaints over the store: intake, workflow steps checked by
//! `rapport_engage::case::transition`, the SLA clock (`rapport_engage::sla`
//! on the bank's business calendar: working hours, the public holidays and
//! make-up days of the holiday calendar, pauses while waiting on the
//! customer), escalations raised once by the sweep, what follows a
//! resolution (a follow-up visit task and a CSAT survey sent as a service
//! message through the outbox), improvement items and the metrics.
//! Every time comes from the [`Clock`], so tests move it.

use crate::access::{Actor, Permission, Role, Staff};
use crate::audit::{entry_for, AuditSink};
use crate::clock::Clock;
use crate::error::{invalid_unless_store, ServiceError, ServiceResult};
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use rapport_engage::case::{
    transition, CaseAction, CaseState, ComplaintCategory, RootCauseTaxonomy,
};
use rapport_engage::classify::{held_out_report, Classifier, HeldOutReport};
use rapport_engage::sla::{
    escalations, status, BusinessCalendar, Level, Pause, PolicyKind, Severity, SlaPolicy, SlaState,
    Target,
};
use rapport_engage::{decide, ContactPolicy, Purpose, SendChannel};
use rapport_store::{
    CaseChange, CaseRow, ContactDecisionRow, EscalationRow, NewCase, NewInvitation, NewMessage,
    Store,
};
use serde::Serialize;
use serde_json::json;

/// What the case logic needs besides the store.
#[derive(Debug, Clone)]
pub struct CaseSettings {
    /// Which service levels the cases run on (`cases.sla_policy`).
    pub policy_kind: PolicyKind,
    pub sla: SlaPolicy,
    pub calendar: BusinessCalendar,
    pub taxonomy: RootCauseTaxonomy,
    pub policy: ContactPolicy,
    /// Who escalations go to when the case names no supervisor.
    pub escalate_to: String,
    /// Business days after resolution the follow-up visit is due.
    pub follow_up_days: i64,
    pub public_url: String,
    pub survey_valid_days: i64,
    pub call_centre: String,
}

impl CaseSettings {
    /// From the configuration, with the built-in holiday calendar's days off
    /// and make-up working days.
    pub fn from_config(cfg: &crate::config::Config) -> Result<CaseSettings> {
        let holidays = rapport_analytics::holiday::HolidayCalendar::embedded()?;
        let mut off = Vec::new();
        let mut work = Vec::new();
        for p in holidays.periods() {
            let mut d = p.first_off;
            while d <= p.last_off {
                off.push(d);
                d += Duration::days(1);
            }
            work.extend(p.make_up.iter().copied());
        }
        let c = &cfg.cases;
        let policy_kind = PolicyKind::parse(&c.sla_policy)
            .with_context(|| format!("cases.sla_policy {:?}: bank or regulator", c.sla_policy))?;
        let mut sla = SlaPolicy {
            warn_at: c.warn_at,
            first_response_minutes: c.first_response_minutes,
            ..SlaPolicy::default()
        };
        if let Some(b) = rapport_engage::sla::Basis::parse(&c.basis) {
            sla.basis = b;
        }
        if let Some(b) = rapport_engage::sla::Basis::parse(&c.first_response_basis) {
            sla.first_response_basis = b;
        }
        for (k, v) in &c.resolution_minutes {
            match Severity::parse(k) {
                Some(Severity::Critical) => sla.resolution_minutes.critical = *v,
                Some(Severity::High) => sla.resolution_minutes.high = *v,
                Some(Severity::Medium) => sla.resolution_minutes.medium = *v,
                Some(Severity::Low) => sla.resolution_minutes.low = *v,
                None => bail!(
                    "cases.resolution_minutes.{k}: not a severity (low, medium, high, critical)"
                ),
            }
        }
        if policy_kind == PolicyKind::Regulator {
            sla = SlaPolicy {
                warn_at: c.warn_at,
                ..SlaPolicy::regulator()
            };
        }
        Ok(CaseSettings {
            policy_kind,
            sla,
            calendar: BusinessCalendar::with_days(off, work),
            taxonomy: RootCauseTaxonomy::default(),
            policy: cfg.contact.policy()?,
            escalate_to: c.escalate_to.clone(),
            follow_up_days: i64::from(c.follow_up_days),
            public_url: cfg.campaigns.public_url.trim_end_matches('/').to_string(),
            survey_valid_days: i64::from(cfg.campaigns.survey_valid_days),
            call_centre: cfg.campaigns.call_centre.clone(),
        })
    }
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct Intake {
    pub customer_key: String,
    pub intake: String,
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub subject: String,
    pub description: String,
    pub supervisor: Option<String>,
    pub by: String,
}

/// Opens a case after checking its fields.
pub async fn open(store: &Store, clock: &Clock, i: &Intake) -> Result<CaseRow> {
    if !matches!(i.kind.as_str(), "complaint" | "request" | "inquiry") {
        bail!("kind {:?}: complaint, request or inquiry", i.kind);
    }
    if i.subject.trim().is_empty() {
        bail!("subject: empty");
    }
    if i.description.trim().is_empty() {
        bail!("description: empty");
    }
    // "auto" (or empty): the category from the text by the built-in
    // classifier, the severity by the keyword rules; noted on the case.
    let text = format!("{}\n{}", i.subject.trim(), i.description.trim());
    let auto = |s: &str| s.trim().is_empty() || s.trim() == "auto";
    let mut notes = Vec::new();
    let category = if auto(&i.category) {
        let p = classifier(store).await?.predict(&text);
        notes.push(format!(
            "category {} detected from the text (confidence {:.2})",
            p.category.as_str(),
            p.confidence
        ));
        p.category
    } else {
        ComplaintCategory::parse(&i.category).with_context(|| {
            format!(
                "category {:?}: auto or one of {}",
                i.category,
                ComplaintCategory::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?
    };
    let severity = if auto(&i.severity) {
        let (sev, why, _) = rapport_engage::classify::severity_of(&text, category);
        notes.push(format!("severity {} by rule: {why}", sev.as_str()));
        sev
    } else {
        Severity::parse(&i.severity).with_context(|| {
            format!(
                "severity {:?}: auto, low, medium, high or critical",
                i.severity
            )
        })?
    };
    let customer = store
        .customer_id_by_key(&rapport_store::Scope::All, &i.customer_key)
        .await
        .with_context(|| format!("customer {:?}: not found", i.customer_key))?;
    let id = store
        .open_case(
            &NewCase {
                customer_id: customer,
                intake: &i.intake,
                kind: &i.kind,
                category: category.as_str(),
                severity: severity.as_str(),
                subject: i.subject.trim(),
                description: i.description.trim(),
                supervisor: i.supervisor.as_deref(),
                created_by: &i.by,
                note: (!notes.is_empty()).then(|| notes.join("; ")).as_deref(),
            },
            clock.local(),
            clock.now(),
        )
        .await?;
    store
        .case(id)
        .await?
        .with_context(|| format!("case {id} vanished after opening"))
}

/// The SLA view of a case at the clock's time.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case: CaseRow,
    pub first_response: rapport_engage::sla::SlaStatus,
    pub resolution: rapport_engage::sla::SlaStatus,
    pub escalations: Vec<EscalationRow>,
    pub events: Vec<rapport_store::CaseEventRow>,
    /// What was sent to the customer (responses, the CSAT survey) with its
    /// delivery state.
    pub messages: Vec<rapport_store::case_queries::CaseMessage>,
}

fn pauses(raw: &[(NaiveDateTime, Option<NaiveDateTime>)]) -> Vec<Pause> {
    raw.iter()
        .map(|(f, t)| Pause { from: *f, to: *t })
        .collect()
}

/// The two SLA clocks of a case at local time `now` (first response, resolution).
pub async fn sla_of(
    store: &Store,
    s: &CaseSettings,
    c: &CaseRow,
    now: NaiveDateTime,
) -> Result<[rapport_engage::sla::SlaStatus; 2]> {
    sla_with(s, c, &store.case_pauses(c.id).await?, now)
}

/// The two SLA clocks of case `c` with its pauses read already (a queue
/// reads the pauses of all its cases in one query).
pub fn sla_with(
    s: &CaseSettings,
    c: &CaseRow,
    raw_pauses: &[(NaiveDateTime, Option<NaiveDateTime>)],
    now: NaiveDateTime,
) -> Result<[rapport_engage::sla::SlaStatus; 2]> {
    let severity = Severity::parse(&c.severity).unwrap_or(Severity::Medium);
    let p = pauses(raw_pauses);
    let granted = usize::try_from(c.sla_extensions).unwrap_or(0);
    status(
        &s.sla.extended(granted),
        &s.calendar,
        severity,
        c.opened_at,
        c.first_response_at,
        c.resolved_at,
        &p,
        now,
    )
    .map_err(|e| anyhow::anyhow!("case {}: SLA clock: {e}", c.id))
}

/// A case with its SLA status, escalations and history.
pub async fn view(store: &Store, s: &CaseSettings, clock: &Clock, id: i64) -> Result<CaseView> {
    let case = store
        .case(id)
        .await?
        .with_context(|| format!("no case {id}"))?;
    let [first_response, resolution] = sla_of(store, s, &case, clock.local()).await?;
    Ok(CaseView {
        escalations: store.case_escalations(id).await?,
        events: store.case_events(id).await?,
        messages: store.case_messages(id).await?,
        case,
        first_response,
        resolution,
    })
}

/// What a step did besides moving the case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepReport {
    pub state: String,
    pub follow_up_task: Option<i64>,
    pub csat_message: Option<i64>,
    pub csat_blocked: Option<String>,
    /// The step asked a manager to approve the closure (a high or critical
    /// complaint) instead of closing.
    pub closure_requested: bool,
    /// A response: the message queued to the customer, or why none was.
    pub response: Option<Queued>,
    pub response_not_sent: Option<NotSent>,
}

/// Applies one workflow step as `actor`, unchecked: the adapters go through
/// [`step_case`], which checks permission, scope and the assignee first.
pub async fn act(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    id: i64,
    action: &CaseAction,
    actor: &str,
) -> Result<StepReport> {
    act_noted(store, s, clock, id, action, actor, None).await
}

/// [`act`] with a text kept on the step's event (the response given to the
/// customer, who approved a closure).
#[allow(clippy::too_many_arguments)]
async fn act_noted(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    id: i64,
    action: &CaseAction,
    actor: &str,
    note: Option<&str>,
) -> Result<StepReport> {
    let case = store
        .case(id)
        .await?
        .with_context(|| format!("no case {id}"))?;
    let state = CaseState::parse(&case.state)
        .with_context(|| format!("case {id} has an unknown state {:?}", case.state))?;
    let next = transition(state, action, &s.taxonomy)
        .map_err(|e| anyhow::anyhow!("case {id}: {} / {}", e.message_en(), e.message_zh()))?;
    let at = clock.local();
    let mut change = CaseChange {
        to_state: next.as_str().to_string(),
        ..CaseChange::default()
    };
    let mut detail = None;
    match action {
        CaseAction::Assign { to } => {
            change.assignee = Some(to.clone());
            detail = Some(format!("to {to}"));
        }
        CaseAction::Start => {}
        CaseAction::Respond => change.first_response_at = Some(at),
        CaseAction::WaitOnCustomer => change.pause_start = true,
        CaseAction::CustomerReplied => change.pause_end = true,
        CaseAction::Resolve {
            root_cause,
            resolution,
        } => {
            change.resolved_at = Some(at);
            change.first_response_at = Some(at);
            change.root_cause = Some(root_cause.clone());
            change.resolution = Some(resolution.clone());
            detail = Some(format!("root cause {root_cause}"));
        }
        CaseAction::Close => change.closed_at = Some(at),
        CaseAction::Reopen { reason } => {
            change.reopen = true;
            detail = Some(reason.clone());
        }
        CaseAction::Escalate { to, reason } => {
            store
                .note_case(
                    id,
                    &case.state,
                    actor,
                    "escalate",
                    Some(&format!("to {to}: {reason}")),
                    at,
                )
                .await?;
            return Ok(StepReport {
                state: case.state,
                ..StepReport::default()
            });
        }
    }
    if let Some(n) = note {
        detail = Some(match detail {
            Some(d) => format!("{d}; {n}"),
            None => n.to_string(),
        });
    }
    let action_name = action.kind().as_str();
    store
        .change_case(
            id,
            &case.state,
            &change,
            actor,
            action_name,
            detail.as_deref(),
            at,
        )
        .await?;
    let mut report = StepReport {
        state: next.as_str().to_string(),
        ..StepReport::default()
    };
    if matches!(action, CaseAction::Resolve { .. }) {
        after_resolution(store, s, clock, &case, &mut report).await?;
    }
    Ok(report)
}

/// After a resolution: a follow-up visit task for the RM (else the branch,
/// else the call centre) and the CSAT survey as a service message.
async fn after_resolution(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    case: &CaseRow,
    report: &mut StepReport,
) -> Result<()> {
    let at = clock.local();
    let point = store.contact_points_of(case.customer_id).await?;
    let assignee = point
        .as_ref()
        .and_then(|p| {
            p.rm_username
                .clone()
                .or(p.branch_code.clone().map(|b| format!("branch:{b}")))
        })
        .unwrap_or_else(|| s.call_centre.clone());
    let mut due = at;
    let mut added = 0;
    while added < s.follow_up_days {
        due += Duration::days(1);
        if s.calendar.is_working_day(due.date()) {
            added += 1;
        }
    }
    let task = store
        .create_contact_task(
            "visit",
            case.customer_id,
            None,
            None,
            &assignee,
            due,
            &format!(
                "回访投诉 #{} / follow up complaint #{}: {}",
                case.id, case.id, case.subject
            ),
            None,
            clock.now(),
        )
        .await?;
    report.follow_up_task = Some(task);

    // The CSAT survey goes as a service message (SMS, else e-mail).
    let mut bytes = [0u8; rapport_engage::survey::TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = rapport_engage::survey::token_from_bytes(&bytes);
    let link = format!("{}/s/{token}", s.public_url);
    let sent = send_to_customer(
        store,
        clock,
        &s.policy,
        case,
        &format!("case-{}.csat.{}", case.id, case.reopen_count),
        &format!("case:{}:csat", case.id),
        |lang| match lang {
            "en" => (
                "How did we handle your complaint?".to_string(),
                format!("Your complaint #{} is resolved. How did we do? Two questions: {link} (the link works once)", case.id),
            ),
            _ => (
                "您的投诉处理满意吗？".to_string(),
                format!("您的投诉（编号{}）已处理完毕。请用一分钟评价我们的处理：{link}（链接仅可使用一次）", case.id),
            ),
        },
        Some(&NewInvitation {
            customer_id: case.customer_id,
            survey: "csat_after_case".into(),
            token_sha256: crate::access::token_hash(&token),
            expires_at: clock.now() + Duration::days(s.survey_valid_days),
        }),
    )
    .await?;
    match sent {
        Ok(m) => report.csat_message = Some(m.message),
        Err(n) => {
            store
                .note_case(
                    case.id,
                    "resolved",
                    "case",
                    "csat_unsent",
                    Some(&n.code),
                    at,
                )
                .await?;
            report.csat_blocked = Some(n.reason);
        }
    }
    Ok(())
}

/// The channels a service message to a case's customer tries, in order
/// (each needs its address on file and the contact policy's yes).
const SERVICE_CHANNELS: [SendChannel; 2] = [SendChannel::Sms, SendChannel::Email];

/// A message queued for a case's customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queued {
    /// The outbox message (the dispatcher sends it; its state is the delivery state).
    pub message: i64,
    pub channel: String,
    /// `zh` or `en`: the customer's language.
    pub lang: String,
    /// Held by quiet hours until then (local time).
    pub deferred_until: Option<NaiveDateTime>,
}

/// Why nothing was sent to a case's customer: a code shown as words
/// (`no_contact_point`, `no_address`, or the contact policy's decision on
/// the first channel with an address: `no_consent`, `consent_refused`,
/// `consent_revoked`, `do_not_disturb`) and the reason, English / Chinese.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotSent {
    pub code: String,
    pub reason: String,
}

/// The customer's language for messages: `en` when their recorded language
/// is English, else `zh`.
pub fn customer_lang(point: Option<&rapport_store::ContactPoint>) -> &'static str {
    match point.and_then(|p| p.language.as_deref()) {
        Some(l) if l.trim().to_ascii_lowercase().starts_with("en") => "en",
        _ => "zh",
    }
}

/// Queues a service message to the customer of `case` in their language
/// (`compose` gives the subject and body for `zh` or `en`) on the first of
/// [`SERVICE_CHANNELS`] with an address whose send the contact policy
/// allows (consent for service messages, do-not-disturb; quiet hours defer
/// it to their end). Every decision taken is logged under `context`. The
/// dispatcher sends it and checks the policy again when it does. `Err`
/// when no channel may carry it, with the reason — never silently.
#[allow(clippy::too_many_arguments)]
async fn send_to_customer(
    store: &Store,
    clock: &Clock,
    policy: &ContactPolicy,
    case: &CaseRow,
    key: &str,
    context: &str,
    compose: impl Fn(&str) -> (String, String),
    invitation: Option<&NewInvitation>,
) -> Result<std::result::Result<Queued, NotSent>> {
    let at = clock.local();
    let Some(point) = store.contact_points_of(case.customer_id).await? else {
        return Ok(Err(NotSent {
            code: "no_contact_point".into(),
            reason: "the customer has no contact details / 客户没有联系方式".into(),
        }));
    };
    let consents = crate::consents::consents(store, case.customer_id).await?;
    let dnd = store.do_not_disturb(case.customer_id).await?;
    let mut decisions = Vec::new();
    let mut refused: Option<NotSent> = None;
    let mut chosen = None;
    for channel in SERVICE_CHANNELS {
        let address = match channel {
            SendChannel::Sms => point.phone.clone(),
            SendChannel::Email => point.email.clone(),
            _ => None,
        };
        let Some(address) = address.filter(|a| !a.trim().is_empty()) else {
            continue;
        };
        let d = decide(policy, &consents, dnd, &[], channel, Purpose::Service, at);
        decisions.push(ContactDecisionRow {
            customer_id: case.customer_id,
            channel: channel.as_str().into(),
            purpose: "service".into(),
            send_at: at,
            allowed: d.allowed,
            code: d.code.as_str().into(),
            defer_until: d.defer_until,
            reason: format!("{} / {}", d.reason_en, d.reason_zh),
            context: context.to_string(),
            decided_by: "case".into(),
        });
        if d.allowed || d.code == rapport_engage::SendDecisionCode::QuietHours {
            let defer = (!d.allowed).then_some(d.defer_until.unwrap_or(at));
            chosen = Some((channel, address, defer));
            break;
        }
        refused.get_or_insert(NotSent {
            code: d.code.as_str().into(),
            reason: format!("{} / {}", d.reason_en, d.reason_zh),
        });
    }
    if !decisions.is_empty() {
        store.log_contact_decisions(&decisions, clock.now()).await?;
    }
    let Some((channel, address, defer)) = chosen else {
        return Ok(Err(refused.unwrap_or(NotSent {
            code: "no_address".into(),
            reason: "no phone or e-mail on file / 没有手机号码或电子邮箱".into(),
        })));
    };
    let lang = customer_lang(Some(&point));
    let (subject, body) = compose(lang);
    let send_at = defer.unwrap_or(at);
    let id = store
        .enqueue_message(
            &NewMessage {
                customer_id: case.customer_id,
                channel: channel.as_str().into(),
                purpose: "service".into(),
                idempotency_key: key.to_string(),
                address,
                lang: lang.into(),
                subject: Some(subject),
                body,
                scheduled_at: send_at,
                window_end: send_at + Duration::days(7),
            },
            invitation,
            &format!("case {}", case.id),
            clock.now(),
        )
        .await?;
    Ok(Ok(Queued {
        message: id,
        channel: channel.as_str().into(),
        lang: lang.into(),
        deferred_until: defer,
    }))
}

/// What a sweep raised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    pub open_cases: usize,
    pub warnings: usize,
    pub breaches: usize,
}

/// Checks every open case's SLA at the clock's time and raises the
/// escalations due (each once) to the case's supervisor, else
/// `cases.escalate_to`.
pub async fn sweep(store: &Store, s: &CaseSettings, clock: &Clock) -> Result<SweepReport> {
    let now = clock.local();
    let open = store.cases(true, None, None).await?;
    let mut r = SweepReport {
        open_cases: open.len(),
        ..SweepReport::default()
    };
    for c in &open {
        let statuses = sla_of(store, s, c, now).await?;
        let already: Vec<(Target, Level)> = store
            .case_escalations(c.id)
            .await?
            .iter()
            .filter_map(|e| Some((Target::parse(&e.target)?, Level::parse(&e.level)?)))
            .collect();
        for e in escalations(&statuses, &already) {
            let to = c
                .supervisor
                .clone()
                .unwrap_or_else(|| s.escalate_to.clone());
            let row = EscalationRow {
                case_id: c.id,
                target: e.target.as_str().into(),
                level: e.level.as_str().into(),
                due: e.due,
                escalated_to: to,
                reason: format!("{} / {}", e.reason_en, e.reason_zh),
            };
            if store
                .raise_escalation(&row, &c.state, now, clock.now())
                .await?
            {
                match e.level {
                    Level::Warning => r.warnings += 1,
                    Level::Breach => r.breaches += 1,
                }
            }
        }
    }
    Ok(r)
}

/// Case metrics over the cases opened in a period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseMetrics {
    pub cases: usize,
    pub complaints: usize,
    pub customers: i64,
    pub complaints_per_1000_customers: f64,
    /// First-response time in working minutes: p50, p90, max, and counts per
    /// bucket (≤ 1 h, ≤ 4 h, ≤ 1 day, ≤ 3 days, more), over responded cases.
    pub first_response_p50_minutes: Option<i64>,
    pub first_response_p90_minutes: Option<i64>,
    pub first_response_buckets: Vec<(String, usize)>,
    /// Shares of cases with the target met on time, among those met or due.
    pub first_response_within_sla: Option<f64>,
    pub resolution_within_sla: Option<f64>,
    /// Working minutes from opening to resolution over resolved cases.
    pub resolution_p50_minutes: Option<i64>,
    pub resolution_mean_minutes: Option<f64>,
    /// Resolved cases that were reopened at least once.
    pub reopen_rate: Option<f64>,
    pub by_category: Vec<(String, usize)>,
    pub by_root_cause: Vec<(String, usize)>,
}

fn pct(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted.get(i).copied()
}

/// The metrics of the cases opened in `[from, to)` (all when `None`).
pub async fn metrics(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> Result<CaseMetrics> {
    let now = clock.local();
    let cases = store.cases(false, from, to).await?;
    let customers = store.customer_count().await?;
    let mut fr = Vec::new();
    let mut res = Vec::new();
    let (mut fr_ok, mut fr_due, mut res_ok, mut res_due) = (0usize, 0usize, 0usize, 0usize);
    let (mut resolved, mut reopened) = (0usize, 0usize);
    let mut by_cat = std::collections::BTreeMap::<String, usize>::new();
    let mut by_cause = std::collections::BTreeMap::<String, usize>::new();
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let all_pauses = store.case_pauses_of(&ids).await?;
    let none = Vec::new();
    for c in &cases {
        *by_cat.entry(c.category.clone()).or_default() += 1;
        if let Some(rc) = &c.root_cause {
            *by_cause.entry(rc.clone()).or_default() += 1;
        }
        let [f, r] = sla_with(s, c, all_pauses.get(&c.id).unwrap_or(&none), now)?;
        if c.first_response_at.is_some() {
            fr.push(f.elapsed_minutes);
        }
        match f.state {
            SlaState::Met => {
                fr_ok += 1;
                fr_due += 1;
            }
            SlaState::MetLate | SlaState::Breached => fr_due += 1,
            _ => {}
        }
        match r.state {
            SlaState::Met => {
                res_ok += 1;
                res_due += 1;
            }
            SlaState::MetLate | SlaState::Breached => res_due += 1,
            _ => {}
        }
        if c.resolved_at.is_some() {
            res.push(r.elapsed_minutes);
            resolved += 1;
            if c.reopen_count > 0 {
                reopened += 1;
            }
        }
    }
    fr.sort_unstable();
    res.sort_unstable();
    let buckets = [
        ("<=1h", 60),
        ("<=4h", 240),
        ("<=1d", 510),
        ("<=3d", 1530),
        (">3d", i64::MAX),
    ];
    let mut first_response_buckets: Vec<(String, usize)> =
        buckets.iter().map(|(k, _)| (k.to_string(), 0)).collect();
    for m in &fr {
        if let Some(i) = buckets.iter().position(|(_, lim)| m <= lim) {
            first_response_buckets[i].1 += 1;
        }
    }
    let complaints = cases.iter().filter(|c| c.kind == "complaint").count();
    let share = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    Ok(CaseMetrics {
        cases: cases.len(),
        complaints,
        customers,
        complaints_per_1000_customers: if customers > 0 {
            1000.0 * complaints as f64 / customers as f64
        } else {
            0.0
        },
        first_response_p50_minutes: pct(&fr, 0.5),
        first_response_p90_minutes: pct(&fr, 0.9),
        first_response_buckets,
        first_response_within_sla: share(fr_ok, fr_due),
        resolution_within_sla: share(res_ok, res_due),
        resolution_p50_minutes: pct(&res, 0.5),
        resolution_mean_minutes: (!res.is_empty())
            .then(|| res.iter().sum::<i64>() as f64 / res.len() as f64),
        reopen_rate: share(reopened, resolved),
        by_category: by_cat.into_iter().collect(),
        by_root_cause: by_cause.into_iter().collect(),
    })
}

/// The engage action a CLI/API step names (missing fields stay empty: the
/// workflow refuses them naming the field).
pub fn action_of(
    name: &str,
    to: Option<String>,
    root_cause: Option<String>,
    resolution: Option<String>,
    reason: Option<String>,
) -> ServiceResult<CaseAction> {
    Ok(match name {
        "assign" => CaseAction::Assign {
            to: to.ok_or_else(|| ServiceError::invalid("to", "assign needs the member of staff to assign the case to"))?,
        },
        "start" => CaseAction::Start,
        "respond" => CaseAction::Respond,
        "wait" | "wait_on_customer" => CaseAction::WaitOnCustomer,
        "replied" | "customer_replied" => CaseAction::CustomerReplied,
        "resolve" => CaseAction::Resolve {
            root_cause: root_cause.unwrap_or_default(),
            resolution: resolution.unwrap_or_default(),
        },
        "close" => CaseAction::Close,
        "reopen" => CaseAction::Reopen {
            reason: reason.unwrap_or_default(),
        },
        "escalate" => CaseAction::Escalate {
            to: to.ok_or_else(|| ServiceError::invalid("to", "escalate needs the member of staff to escalate the case to"))?,
            reason: reason.unwrap_or_default(),
        },
        other => {
            return Err(ServiceError::invalid(
                "action",
                format!("{other:?}: assign, start, respond, wait, replied, resolve, close, reopen or escalate"),
            ))
        }
    })
}

/// Opens a case as `actor` (who needs [`Permission::WorkCases`] and the
/// customer in scope), through `via` (web, api, cli); audited.
pub async fn open_case(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    mut intake: Intake,
) -> ServiceResult<CaseRow> {
    actor.require(Permission::WorkCases)?;
    let customer_id = store
        .customer_id_by_key(&actor.scope(), &intake.customer_key)
        .await?;
    intake.by = actor.name().to_string();
    intake.intake = via.to_string();
    let c = open(store, clock, &intake)
        .await
        .map_err(|e| invalid_unless_store("case", e))?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.open",
            "case",
            Some(c.id.to_string()),
            Some(customer_id),
            json!({ "via": via, "kind": c.kind, "severity": c.severity, "category": c.category }),
        )])
        .await?;
    Ok(c)
}

/// A case the actor may see (None when unknown or out of scope: the two are
/// answered alike).
pub async fn case_in_scope(store: &Store, actor: &Actor, id: i64) -> ServiceResult<CaseRow> {
    let c = store
        .case(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("case {id}")))?;
    if !store
        .customer_in_scope(&actor.scope(), c.customer_id)
        .await?
    {
        return Err(ServiceError::not_found(format!("case {id}")));
    }
    Ok(c)
}

/// Reads case `id` with its SLA clocks, escalations and history as `actor`
/// (who needs [`Permission::WorkCases`] and the case in scope), through
/// `via` (web, api); the read is audited as `case.view`.
pub async fn read_case(
    store: &Store,
    audit: &AuditSink,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
) -> ServiceResult<CaseView> {
    let c = workable_case(store, actor, id).await?;
    let view = view(store, s, clock, id)
        .await
        .map_err(ServiceError::Internal)?;
    audit
        .record(entry_for(
            actor,
            "case.view",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via }),
        ))
        .await;
    Ok(view)
}

/// The member of staff called `name`, when they may be given work needing
/// `permission` on customer `customer_id`: an existing, active user whose
/// role has the permission and whose scope holds the customer (an RM's own
/// customers, a manager's branch). Anything else is
/// [`ServiceError::Invalid`] on `field`, in English and Chinese.
pub async fn assignable_staff(
    store: &Store,
    field: &str,
    user: Option<rapport_store::StaffUser>,
    name: &str,
    permission: Permission,
    customer_id: i64,
) -> ServiceResult<rapport_store::StaffUser> {
    let refuse = |en: String, zh: String| ServiceError::invalid(field, format!("{en} / {zh}"));
    let Some(user) = user else {
        return Err(refuse(
            format!("no member of staff is called {name:?}"),
            format!("没有名为 {name:?} 的员工"),
        ));
    };
    if !user.active {
        return Err(refuse(
            format!("{:?} is disabled and cannot be given work", user.username),
            format!("员工 {:?} 已停用，不能分派工作", user.username),
        ));
    }
    let Some(role) = Role::parse(&user.role) else {
        return Err(refuse(
            format!("{:?} has the unknown role {:?}", user.username, user.role),
            format!("员工 {:?} 的角色 {:?} 无效", user.username, user.role),
        ));
    };
    let staff = Staff {
        user,
        role,
        client: String::new(),
    };
    if !staff.can(permission) {
        return Err(refuse(
            format!(
                "{:?} ({}) may not {}",
                staff.user.username,
                role.as_str(),
                permission.describe()
            ),
            format!(
                "员工 {:?}（{}）无权处理此项工作",
                staff.user.username,
                role.as_str()
            ),
        ));
    }
    if !store.customer_in_scope(&staff.scope(), customer_id).await? {
        return Err(refuse(
            format!(
                "{:?} cannot see this customer (outside their scope)",
                staff.user.username
            ),
            format!("员工 {:?} 的权限范围内没有这位客户", staff.user.username),
        ));
    }
    Ok(staff.user)
}

/// Applies one workflow step as `actor` (who needs [`Permission::WorkCases`]
/// and the case in scope); a step the workflow refuses is an
/// [`ServiceError::InvalidTransition`] naming the allowed ones; an
/// assignment must name a member of staff who may work the case
/// ([`assignable_staff`]); audited.
pub async fn step_case(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    action: &CaseAction,
) -> ServiceResult<StepReport> {
    let c = workable_case(store, actor, id).await?;
    if let Some(state) = CaseState::parse(&c.state) {
        if let Err(e) = transition(state, action, &s.taxonomy) {
            return Err(ServiceError::InvalidTransition(format!(
                "case {id}: {} / {}",
                e.message_en(),
                e.message_zh()
            )));
        }
    }
    if let CaseAction::Assign { to } = action {
        let name = to.trim();
        let user = store.staff_user_by_name(name).await?;
        let user = assignable_staff(
            store,
            "assignee",
            user,
            name,
            Permission::WorkCases,
            c.customer_id,
        )
        .await?;
        // The case records the user name as stored.
        let action = CaseAction::Assign { to: user.username };
        return finish_step(store, s, clock, actor, via, &c, &action, None).await;
    }
    if matches!(action, CaseAction::Close) && needs_closure_approval(&c) {
        return request_closure(store, s, clock, actor, via, id, "").await;
    }
    finish_step(store, s, clock, actor, via, &c, action, None).await
}

#[allow(clippy::too_many_arguments)]
async fn finish_step(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    c: &CaseRow,
    action: &CaseAction,
    note: Option<&str>,
) -> ServiceResult<StepReport> {
    let id = c.id;
    let report = act_noted(store, s, clock, id, action, actor.name(), note)
        .await
        .map_err(|e| invalid_unless_store("action", e))?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.step",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via, "action": action.kind().as_str(), "state": report.state }),
        )])
        .await?;
    Ok(report)
}

/// Adds an improvement item rolling up the cases of taxonomy root cause
/// `root_cause` as `actor` (who needs [`Permission::WorkCases`]); audited.
/// Returns the item's id.
#[allow(clippy::too_many_arguments)]
pub async fn add_improvement(
    store: &Store,
    s: &CaseSettings,
    actor: &Actor,
    via: &str,
    root_cause: &str,
    title: &str,
    owner: &str,
    note: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<i64> {
    actor.require(Permission::WorkCases)?;
    if s.taxonomy.get(root_cause).is_none() {
        return Err(ServiceError::invalid(
            "root_cause",
            format!("{root_cause:?} is not in the root-cause taxonomy"),
        ));
    }
    let id = store
        .add_improvement_item(root_cause, title, owner, note, now)
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "improvement.add",
            "improvement_item",
            Some(id.to_string()),
            None,
            json!({ "via": via, "root_cause": root_cause, "owner": owner }),
        )])
        .await?;
    Ok(id)
}

/// Moves improvement item `id` to `status` (open, in_progress, done) as
/// `actor` (who needs [`Permission::WorkCases`]); audited.
pub async fn set_improvement_status(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
    status: &str,
    note: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    actor.require(Permission::WorkCases)?;
    if !matches!(status, "open" | "in_progress" | "done") {
        return Err(ServiceError::invalid(
            "status",
            format!("{status:?}: open, in_progress or done"),
        ));
    }
    store.set_improvement_status(id, status, note, now).await?;
    store
        .append_audit(&[entry_for(
            actor,
            "improvement.status",
            "improvement_item",
            Some(id.to_string()),
            None,
            json!({ "via": via, "status": status }),
        )])
        .await?;
    Ok(())
}

/// The stored corrections as training examples: each reclassified case's
/// subject and description with the category of its latest correction
/// (erased cases left out).
pub async fn corrections(store: &Store) -> Result<Vec<(String, ComplaintCategory)>> {
    Ok(store
        .case_corrections()
        .await?
        .into_iter()
        .filter_map(|r| {
            let cat = ComplaintCategory::parse(&r.category)?;
            Some((
                format!("{}\n{}", r.subject.trim(), r.description.trim()),
                cat,
            ))
        })
        .collect())
}

/// The built-in model (no corrections), shared.
static BUILTIN_MODEL: std::sync::LazyLock<std::sync::Arc<Classifier>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(Classifier::builtin().clone()));

/// The last model trained with corrections, with the corrections it was
/// trained on.
type Trained = (Vec<(String, ComplaintCategory)>, std::sync::Arc<Classifier>);
static WITH_CORRECTIONS: std::sync::Mutex<Option<Trained>> = std::sync::Mutex::new(None);

/// The classifier cases are classified with: the built-in model while no
/// case was reclassified; otherwise a model trained on the built-in rows
/// plus every stored correction. It is trained at the first classification
/// after the corrections change (a new correction, an erased case) and kept
/// until they change again, so a correction teaches the very next intake.
pub async fn classifier(store: &Store) -> Result<std::sync::Arc<Classifier>> {
    let corr = corrections(store).await?;
    if corr.is_empty() {
        return Ok(BUILTIN_MODEL.clone());
    }
    if let Ok(guard) = WITH_CORRECTIONS.lock() {
        if let Some((k, m)) = guard.as_ref() {
            if *k == corr {
                return Ok(m.clone());
            }
        }
    }
    let model = std::sync::Arc::new(Classifier::with_corrections(&corr));
    if let Ok(mut guard) = WITH_CORRECTIONS.lock() {
        *guard = Some((corr, model.clone()));
    }
    Ok(model)
}

/// The held-out measurement of the classifier cases are classified with
/// now (the built-in rows plus the stored corrections): per category, on
/// real CFPB narratives, English seeds and Chinese seeds kept out of
/// training, with the training counts it rests on. The actor needs
/// [`Permission::WorkCases`] (the figures hold no personal data).
pub async fn classifier_report(store: &Store, actor: &Actor) -> ServiceResult<HeldOutReport> {
    actor.require(Permission::WorkCases)?;
    let corr = corrections(store).await?;
    let model = classifier(store).await?;
    Ok(held_out_report(&model, &corr))
}

/// What a reclassification did.
#[derive(Debug, Clone, Serialize)]
pub struct Reclassified {
    pub case_id: i64,
    pub correction_id: i64,
    pub from: ComplaintCategory,
    pub to: ComplaintCategory,
    pub reason: String,
    pub by: String,
}

/// Corrects the category of case `id` to `to` as `actor` (who needs
/// [`Permission::WorkCases`] and the case in scope), for `reason` (required:
/// who, when and why are kept, and the case's history shows it); audited.
/// The case's text with its new category trains the next classifier
/// ([`classifier`]).
#[allow(clippy::too_many_arguments)]
pub async fn reclassify_case(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    to: &str,
    reason: &str,
) -> ServiceResult<Reclassified> {
    let c = workable_case(store, actor, id).await?;
    let to_cat = ComplaintCategory::parse(to).ok_or_else(|| {
        ServiceError::invalid(
            "category",
            format!(
                "{to:?} is not a category ({}) / 不是有效的投诉类别",
                ComplaintCategory::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "say why the category is wrong / 请说明改类原因",
        ));
    }
    if reason.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "reason",
            "at most 1,000 characters / 不超过 1000 字",
        ));
    }
    let from_cat = ComplaintCategory::parse(&c.category).unwrap_or(ComplaintCategory::Other);
    if from_cat == to_cat && c.category == to_cat.as_str() {
        return Err(ServiceError::invalid(
            "category",
            format!(
                "the case is already {} / 该案件已是“{}”类",
                to_cat.label_en(),
                to_cat.label_zh()
            ),
        ));
    }
    let correction_id = store
        .reclassify_case(
            id,
            &c.category,
            to_cat.as_str(),
            reason,
            actor.name(),
            clock.local(),
            clock.now(),
        )
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.reclassify",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via, "from": c.category, "to": to_cat.as_str(), "correction": correction_id }),
        )])
        .await?;
    Ok(Reclassified {
        case_id: id,
        correction_id,
        from: from_cat,
        to: to_cat,
        reason: reason.to_string(),
        by: actor.name().to_string(),
    })
}

/// What an extension of a case's deadline did.
#[derive(Debug, Clone, Serialize)]
pub struct Extended {
    pub case_id: i64,
    /// Extensions granted now, this one included.
    pub extensions: i64,
    /// The new resolution target in minutes on the policy's clock.
    pub resolution_minutes: i64,
    pub due: NaiveDateTime,
    pub senior_approved: bool,
}

/// Extends the resolution deadline of case `id` as `actor` (who needs
/// [`Permission::WorkCases`] and the case in scope) to the policy's next
/// step, for `reason` (required; the customer must be told). A step the
/// policy reserves to a senior also needs
/// [`Permission::ApproveCaseExtensions`]. Refused when the policy allows no
/// (further) extension or the case is resolved; audited.
pub async fn extend_case(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    reason: &str,
) -> ServiceResult<Extended> {
    let c = workable_case(store, actor, id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "say why the case needs more time / 请说明延期原因",
        ));
    }
    if c.resolved_at.is_some() || matches!(c.state.as_str(), "resolved" | "closed") {
        return Err(ServiceError::Refused(format!(
            "case {id} is {}: nothing to extend / 案件已解决或关闭，无需延期",
            c.state
        )));
    }
    let granted = usize::try_from(c.sla_extensions).unwrap_or(0);
    let Some(step) = s.sla.next_extension(granted) else {
        return Err(ServiceError::Refused(format!(
            "{} allow no further extension of case {id} ({granted} granted) / {}不允许再延期（已延期 {granted} 次）",
            s.policy_kind.label_en(),
            s.policy_kind.label_zh()
        )));
    };
    if step.needs_senior_approval {
        actor.require(Permission::ApproveCaseExtensions)?;
    }
    let days = step.resolution_minutes as f64 / rapport_engage::sla::DAY_MINUTES as f64;
    let detail = format!(
        "resolution extended to {days} days ({}){}: {reason}",
        s.policy_kind.as_str(),
        if step.needs_senior_approval {
            ", approved by a senior"
        } else {
            ""
        }
    );
    store
        .extend_case_sla(id, c.sla_extensions, actor.name(), &detail, clock.local())
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.extend",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via, "extensions": c.sla_extensions + 1,
                    "resolution_minutes": step.resolution_minutes,
                    "senior": step.needs_senior_approval }),
        )])
        .await?;
    let c = store
        .case(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("case {id}")))?;
    let [_, res] = sla_of(store, s, &c, clock.local())
        .await
        .map_err(ServiceError::Internal)?;
    Ok(Extended {
        case_id: id,
        extensions: c.sla_extensions,
        resolution_minutes: res.target_minutes,
        due: res.due,
        senior_approved: step.needs_senior_approval,
    })
}

/// The longest response text kept with a case's history.
const RESPONSE_MAX_CHARS: usize = 2000;

/// Responds to the customer on case `id` as `actor` (who needs
/// [`Permission::WorkCases`] and the case in scope): the `respond` step,
/// which stops the first-response clock at its first use, with the text
/// kept on the step's event (the case history shows it), and the text SENT
/// to the customer as a service message in their language on a channel the
/// contact policy allows ([`send_to_customer`]; the outbox and the
/// dispatcher carry it, and the case shows its delivery state). When no
/// channel may carry it the response is still recorded, and a
/// `response_unsent` event keeps why (the report says so too). The text is
/// required; audited (`case.step` and `case.respond`).
pub async fn respond_case(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    message: &str,
) -> ServiceResult<StepReport> {
    let c = workable_case(store, actor, id).await?;
    let message = message.trim();
    if message.is_empty() {
        return Err(ServiceError::invalid(
            "message",
            "write the response given to the customer / 请填写答复客户的内容",
        ));
    }
    if message.chars().count() > RESPONSE_MAX_CHARS {
        return Err(ServiceError::invalid(
            "message",
            "at most 2,000 characters / 不超过 2000 字",
        ));
    }
    check_step(s, &c, &CaseAction::Respond)?;
    let mut report = finish_step(
        store,
        s,
        clock,
        actor,
        via,
        &c,
        &CaseAction::Respond,
        Some(message),
    )
    .await?;
    // The n-th response of the case is its message `case-ID.response.n`.
    let n = store
        .case_events(id)
        .await?
        .iter()
        .filter(|e| e.action == "respond")
        .count();
    let (zh_kind, en_kind) = match c.kind.as_str() {
        "request" => ("服务请求", "request"),
        "inquiry" => ("咨询", "enquiry"),
        _ => ("投诉", "complaint"),
    };
    let sent = send_to_customer(
        store,
        clock,
        &s.policy,
        &c,
        &format!("case-{id}.response.{n}"),
        &format!("case:{id}:response:{n}"),
        |lang| match lang {
            "en" => (
                format!("Our reply to your {en_kind} #{id}"),
                format!("About your {en_kind} #{id}: {message}"),
            ),
            _ => (
                format!("关于您的{zh_kind}（编号{id}）的答复"),
                format!("您好，关于您的{zh_kind}（编号{id}）：{message}"),
            ),
        },
        None,
    )
    .await
    .map_err(|e| invalid_unless_store("message", e))?;
    match &sent {
        Ok(q) => report.response = Some(q.clone()),
        Err(n) => {
            store
                .note_case(
                    id,
                    &report.state,
                    actor.name(),
                    "response_unsent",
                    Some(&n.code),
                    clock.local(),
                )
                .await?;
            report.response_not_sent = Some(n.clone());
        }
    }
    store
        .append_audit(&[entry_for(
            actor,
            "case.respond",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            match &sent {
                Ok(q) => json!({ "via": via, "sent": true, "message": q.message,
                                 "channel": q.channel, "lang": q.lang }),
                Err(n) => json!({ "via": via, "sent": false, "why": n.code }),
            },
        )])
        .await?;
    Ok(report)
}

/// The case `id` as an actor who may work cases sees it: the right
/// ([`Permission::WorkCases`]) and the case in scope — the opening of every
/// use case that changes a case.
async fn workable_case(store: &Store, actor: &Actor, id: i64) -> ServiceResult<CaseRow> {
    actor.require(Permission::WorkCases)?;
    case_in_scope(store, actor, id).await
}

/// Refused with the workflow's words (both languages) when `action` is not
/// a step of the case's state.
fn check_step(s: &CaseSettings, c: &CaseRow, action: &CaseAction) -> ServiceResult<()> {
    if let Some(state) = CaseState::parse(&c.state) {
        if let Err(e) = transition(state, action, &s.taxonomy) {
            return Err(ServiceError::InvalidTransition(format!(
                "case {}: {} / {}",
                c.id,
                e.message_en(),
                e.message_zh()
            )));
        }
    }
    Ok(())
}

/// Whether closing the case needs a manager's approval: a complaint of high
/// or critical severity (the one place the rule is written).
pub fn needs_closure_approval(c: &CaseRow) -> bool {
    c.kind == "complaint" && matches!(c.severity.as_str(), "high" | "critical")
}

/// The closure request of case `id` waiting for a manager, if any.
pub async fn pending_closure(
    store: &Store,
    id: i64,
) -> Result<Option<rapport_store::case_queries::PendingClosure>> {
    Ok(store.pending_closures(Some(id)).await?.pop())
}

/// Asks to close resolved case `id` as `actor` (who needs
/// [`Permission::WorkCases`] and the case in scope). A case that needs no
/// approval ([`needs_closure_approval`]) is closed at once; otherwise the
/// request is kept in the case's history (`close_request`, with `note`)
/// until a manager decides it ([`decide_closure`]). A second request while
/// one waits is a conflict; audited.
pub async fn request_closure(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    note: &str,
) -> ServiceResult<StepReport> {
    let c = workable_case(store, actor, id).await?;
    check_step(s, &c, &CaseAction::Close)?;
    let note = note.trim();
    if !needs_closure_approval(&c) {
        return finish_step(
            store,
            s,
            clock,
            actor,
            via,
            &c,
            &CaseAction::Close,
            (!note.is_empty()).then_some(note),
        )
        .await;
    }
    if let Some(p) = pending_closure(store, id).await? {
        return Err(ServiceError::Conflict(format!(
            "case {id}: {} already asked to close it; a manager decides / {} 已申请结案，等待经理审批",
            p.requested_by, p.requested_by
        )));
    }
    store
        .note_case(
            id,
            &c.state,
            actor.name(),
            "close_request",
            (!note.is_empty()).then_some(note),
            clock.local(),
        )
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.close_request",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via, "severity": c.severity }),
        )])
        .await?;
    Ok(StepReport {
        state: c.state,
        closure_requested: true,
        ..StepReport::default()
    })
}

/// A manager's decision on the closure request of case `id`, as `actor`
/// (who needs [`Permission::ApproveCaseClosure`] and the case in scope).
/// The one who asked cannot decide their own request (refused and
/// audited). Approved, the case is closed with the approval on its history;
/// rejected (a reason is required), it stays resolved for the handler to
/// reopen or ask again. Audited.
#[allow(clippy::too_many_arguments)]
pub async fn decide_closure(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    id: i64,
    approve: bool,
    note: &str,
) -> ServiceResult<StepReport> {
    actor.require(Permission::ApproveCaseClosure)?;
    let c = case_in_scope(store, actor, id).await?;
    let Some(p) = pending_closure(store, id).await? else {
        return Err(ServiceError::Refused(format!(
            "case {id}: no closure request is waiting / 该案件没有待审批的结案申请"
        )));
    };
    if p.requested_by == actor.name() {
        store
            .append_audit(&[entry_for(
                actor,
                "case.close_refused",
                "case",
                Some(id.to_string()),
                Some(c.customer_id),
                json!({ "via": via, "why": "own request" }),
            )])
            .await?;
        return Err(ServiceError::Refused(format!(
            "case {id}: you asked to close it, so another manager must approve / 结案申请由您提出，须由其他经理审批"
        )));
    }
    let note = note.trim();
    if approve {
        check_step(s, &c, &CaseAction::Close)?;
        let detail = if note.is_empty() {
            format!("closure approved; asked by {}", p.requested_by)
        } else {
            format!("closure approved; asked by {}: {note}", p.requested_by)
        };
        let report = act_noted(
            store,
            s,
            clock,
            id,
            &CaseAction::Close,
            actor.name(),
            Some(&detail),
        )
        .await
        .map_err(|e| invalid_unless_store("action", e))?;
        store
            .append_audit(&[entry_for(
                actor,
                "case.close_approve",
                "case",
                Some(id.to_string()),
                Some(c.customer_id),
                json!({ "via": via, "requested_by": p.requested_by, "state": report.state }),
            )])
            .await?;
        return Ok(report);
    }
    if note.is_empty() {
        return Err(ServiceError::invalid(
            "note",
            "say why the case cannot be closed yet / 请说明不予结案的原因",
        ));
    }
    store
        .note_case(
            id,
            &c.state,
            actor.name(),
            "close_reject",
            Some(note),
            clock.local(),
        )
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "case.close_reject",
            "case",
            Some(id.to_string()),
            Some(c.customer_id),
            json!({ "via": via, "requested_by": p.requested_by }),
        )])
        .await?;
    Ok(StepReport {
        state: c.state,
        ..StepReport::default()
    })
}

/// Where a case stands against its service levels, as the queue filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SlaStanding {
    /// Every clock met, running before its warning point, or paused.
    OnTime,
    /// A clock past its warning point, not yet due.
    DueSoon,
    /// A clock past its due time (still open, or met late).
    Breached,
}

impl SlaStanding {
    pub const ALL: [SlaStanding; 3] = [
        SlaStanding::OnTime,
        SlaStanding::DueSoon,
        SlaStanding::Breached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaStanding::OnTime => "on_time",
            SlaStanding::DueSoon => "due_soon",
            SlaStanding::Breached => "breached",
        }
    }

    pub fn parse(s: &str) -> Option<SlaStanding> {
        SlaStanding::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
    }

    /// The worse of the two clocks.
    pub fn of(clocks: &[rapport_engage::sla::SlaStatus]) -> SlaStanding {
        if clocks
            .iter()
            .any(|c| matches!(c.state, SlaState::Breached | SlaState::MetLate))
        {
            SlaStanding::Breached
        } else if clocks.iter().any(|c| c.state == SlaState::Warning) {
            SlaStanding::DueSoon
        } else {
            SlaStanding::OnTime
        }
    }
}

/// What the case queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub store: rapport_store::case_queries::CaseQueueFilter,
    pub sla: Option<SlaStanding>,
    /// Only cases whose closure waits for a manager.
    pub awaiting_approval: bool,
}

/// A case of the queue with its clocks.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLine {
    pub case: CaseRow,
    pub customer_key: String,
    pub first_response: rapport_engage::sla::SlaStatus,
    pub resolution: rapport_engage::sla::SlaStatus,
    pub standing: SlaStanding,
    pub closure: Option<rapport_store::case_queries::PendingClosure>,
}

/// The cases of the actor's scope (who needs [`Permission::WorkCases`])
/// passing `f`, newest first, with their SLA clocks at the clock's time.
pub async fn queue(
    store: &Store,
    s: &CaseSettings,
    clock: &Clock,
    actor: &Actor,
    f: &QueueFilter,
) -> ServiceResult<Vec<QueueLine>> {
    actor.require(Permission::WorkCases)?;
    let now = clock.local();
    let mut pending: std::collections::HashMap<i64, rapport_store::case_queries::PendingClosure> =
        store
            .pending_closures(None)
            .await?
            .into_iter()
            .map(|p| (p.case_id, p))
            .collect();
    let mut out = Vec::new();
    let rows: Vec<_> = store
        .case_queue(&actor.scope(), &f.store)
        .await?
        .into_iter()
        .filter(|q| !f.awaiting_approval || pending.contains_key(&q.case.id))
        .collect();
    // The pauses of every case listed, in one query.
    let ids: Vec<i64> = rows.iter().map(|q| q.case.id).collect();
    let all_pauses = store.case_pauses_of(&ids).await?;
    for q in rows {
        let none = Vec::new();
        let p = all_pauses.get(&q.case.id).unwrap_or(&none);
        let [fr, res] = sla_with(s, &q.case, p, now).map_err(ServiceError::Internal)?;
        let standing = SlaStanding::of(&[fr, res]);
        if f.sla.is_some_and(|want| want != standing) {
            continue;
        }
        out.push(QueueLine {
            closure: pending.remove(&q.case.id),
            customer_key: q.customer_key,
            case: q.case,
            first_response: fr,
            resolution: res,
            standing,
        });
    }
    Ok(out)
}

/// The people cases of the actor's scope are assigned to.
pub async fn assignees(store: &Store, actor: &Actor) -> ServiceResult<Vec<String>> {
    actor.require(Permission::WorkCases)?;
    Ok(store.case_assignees(&actor.scope()).await?)
}

/// The local time, going back from `now` in half hours (at most 60 days),
/// at which a case of `severity` opened and answered ten minutes later
/// would have its resolution clock in `want` at `now`.
fn opened_for(
    s: &CaseSettings,
    severity: Severity,
    want: SlaState,
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    (1..(60 * 48))
        .map(|k| now - Duration::minutes(30 * k))
        .find(|opened| {
            let answered = *opened + Duration::minutes(10);
            status(
                &s.sla,
                &s.calendar,
                severity,
                *opened,
                Some(answered.min(now)),
                None,
                &[],
                now,
            )
            .is_ok_and(|[_, res]| res.state == want)
        })
}

/// The demo's complaint queue, on the demo store at the system clock: an
/// agent (the complaint handler) holds complaints of customers of the first
/// branch manager's branch — one high complaint past its resolution
/// deadline (escalated by the sweep), two near theirs, a high complaint
/// resolved and waiting for the manager to approve its closure, and a new
/// one not yet picked up. Every step goes through the use cases, as the
/// agent, audited as `demo`.
pub async fn demo_seed(store: &Store, cfg: &crate::config::Config) -> Result<serde_json::Value> {
    let s = CaseSettings::from_config(cfg)?;
    let now = Clock::from_config(cfg, None)?.local();
    let offset = Clock::from_config(cfg, None)?.offset();
    let users = store.staff_users().await?;
    let pick = |role: &str| {
        users
            .iter()
            .filter(|u| u.role == role && u.active && !u.is_service())
            .min_by_key(|u| u.username.clone())
            .cloned()
    };
    let Some(agent) = pick("agent") else {
        bail!("the demo bank has no agent to hold the complaints");
    };
    // The first branch manager (by name) whose branch has five customers.
    let mut managers: Vec<_> = users
        .iter()
        .filter(|u| u.role == "manager" && u.active && !u.is_service() && u.branch_id.is_some())
        .cloned()
        .collect();
    managers.sort_by(|a, b| a.username.cmp(&b.username));
    let mut chosen = None;
    for m in managers {
        let customers = store
            .search_customers(
                &rapport_store::Scope::Branch(m.branch_id.unwrap_or_default()),
                &rapport_store::CustomerFilter {
                    per_page: 40,
                    ..rapport_store::CustomerFilter::default()
                },
            )
            .await?
            .items;
        let keys: Vec<String> = customers
            .iter()
            .filter(|c| !c.erased)
            .map(|c| c.key.clone())
            .collect();
        if keys.len() >= 5 {
            chosen = Some((m, keys));
            break;
        }
    }
    let Some((manager, keys)) = chosen else {
        bail!("no branch of the demo bank has five customers for the complaint queue");
    };
    let handler = Actor::Staff(Staff {
        user: agent.clone(),
        role: Role::Agent,
        client: "demo".into(),
    });
    // (customer, severity, category, subject, description, resolution clock wanted)
    let plan: [(&str, &str, &str, &str, Option<SlaState>); 5] = [
        (
            "high",
            "wealth_insurance",
            "理财产品的管理费从未说明",
            "客户购买的理财产品每季度被扣管理费，销售时从未告知有这笔费用，要求退还并解释。",
            Some(SlaState::Breached),
        ),
        (
            "medium",
            "fees",
            "账户管理费重复收取",
            "本月账户管理费被扣了两次，客户要求退还多扣的一笔。",
            Some(SlaState::Warning),
        ),
        (
            "medium",
            "digital_channels",
            "手机银行转账一直失败",
            "客户连续三天用手机银行转账都提示系统繁忙，耽误了还款。",
            Some(SlaState::Warning),
        ),
        (
            "high",
            "cards_payments",
            "信用卡被盗刷后迟迟未处理",
            "客户报告信用卡被盗刷两笔，一周内无人回电，要求尽快处理并补偿。",
            None,
        ),
        (
            "low",
            "service_attitude",
            "网点排队时间过长",
            "客户在网点等候超过一小时，柜员态度冷淡。",
            None,
        ),
    ];
    let mut out = Vec::new();
    for (i, (severity, category, subject, description, want)) in plan.iter().enumerate() {
        let sev = Severity::parse(severity).unwrap_or(Severity::Medium);
        let opened = match want {
            Some(w) => opened_for(&s, sev, *w, now).unwrap_or(now - Duration::days(3)),
            None => now - Duration::hours(2),
        };
        let clock = Clock::fixed(offset, opened);
        let c = open_case(
            store,
            &clock,
            &handler,
            "demo",
            Intake {
                customer_key: keys[i].clone(),
                intake: String::new(),
                kind: "complaint".into(),
                category: (*category).into(),
                severity: (*severity).into(),
                subject: (*subject).into(),
                description: (*description).into(),
                supervisor: Some(manager.username.clone()),
                by: String::new(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo complaint {subject}: {e}"))?;
        let id = c.id;
        let last = i == plan.len() - 1;
        if !last {
            let step = |a: CaseAction| {
                let clock = clock.clone();
                let handler = handler.clone();
                let s = s.clone();
                async move { step_case(store, &s, &clock, &handler, "demo", id, &a).await }
            };
            step(CaseAction::Assign {
                to: agent.username.clone(),
            })
            .await
            .map_err(|e| anyhow::anyhow!("demo case {id}: {e}"))?;
            step(CaseAction::Start)
                .await
                .map_err(|e| anyhow::anyhow!("demo case {id}: {e}"))?;
            clock.advance(Duration::minutes(10));
            respond_case(
                store,
                &s,
                &clock,
                &handler,
                "demo",
                id,
                "已致电客户，说明正在核查，会在时限内答复。",
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo case {id}: {e}"))?;
        }
        if want.is_none() && !last {
            // The high complaint resolved and waiting for the manager.
            clock.advance(Duration::minutes(50));
            step_case(
                store,
                &s,
                &clock,
                &handler,
                "demo",
                id,
                &CaseAction::Resolve {
                    root_cause: s
                        .taxonomy
                        .iter()
                        .next()
                        .map(|r| r.code.clone())
                        .unwrap_or_default(),
                    resolution: "已冻结卡片、退还两笔盗刷款项并补发新卡。".into(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo case {id}: {e}"))?;
            request_closure(
                store,
                &s,
                &clock,
                &handler,
                "demo",
                id,
                "客户已确认收到退款",
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo case {id}: {e}"))?;
        }
        out.push(json!({ "case": id, "severity": severity, "subject": subject }));
    }
    let swept = sweep(store, &s, &Clock::from_config(cfg, None)?).await?;
    Ok(
        json!({ "handler": agent.username, "approver": manager.username, "cases": out, "escalations": swept }),
    )
}
