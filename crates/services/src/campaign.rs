//! Campaigns over the store: resolve the audience, gather each member's
//! consents, do-not-disturb, send history, addresses and suitability, plan
//! them with `rapport_engage::campaign::plan`, show the preview's counts,
//! and launch: members, rendered messages in the outbox, one-time survey
//! links and every send decision, in one transaction.
//!
//! The preview and the launch run the same code on the same inputs at the
//! clock's time, so the launch queues exactly what the preview counted.
//! Addresses: SMS, phone and meeting use the customer's phone number,
//! e-mail the e-mail address; app push and WeChat are addressed by the
//! customer key, which the bank's gateway maps to its app user or WeChat
//! binding — a customer is reachable on them when a consent record exists
//! for that channel (the binding).

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::clock::Clock;
use crate::error::{invalid_unless_store, ServiceError, ServiceResult};
use crate::recommendations::Settings as MatchingSettings;
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use rapport_domain::RiskTolerance;
use rapport_engage::campaign::{
    plan, Audience, CampaignSpec, Candidate, Lang, Outcome, PlanCounts, PlannedCustomer,
};
use rapport_engage::{ConsentRecord, ContactPolicy, Purpose, SendChannel, SentMessage};
use rapport_matching::{check_lending, check_product, Assessment, Context as SuitContext};
use rapport_store::campaign_approval::ApprovalRow;
use rapport_store::{
    CampaignRow, ContactDecisionRow, ContactPoint, MemberRow, NewCampaign, NewInvitation,
    NewMessage, Store,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// What a campaign needs besides the store.
#[derive(Debug, Clone)]
pub struct CampaignSettings {
    pub policy: ContactPolicy,
    pub matching: MatchingSettings,
    /// Base of the survey links, e.g. `https://rapport.bank.example`.
    pub public_url: String,
    /// Base of the meeting video links (a room name is appended).
    pub video_base_url: String,
    pub survey_valid_days: i64,
}

impl CampaignSettings {
    pub fn from_config(cfg: &crate::config::Config) -> Result<CampaignSettings> {
        Ok(CampaignSettings {
            policy: cfg.contact.policy()?,
            matching: MatchingSettings::from_config(&cfg.matching)?,
            public_url: cfg.campaigns.public_url.trim_end_matches('/').to_string(),
            video_base_url: cfg
                .campaigns
                .video_base_url
                .trim_end_matches('/')
                .to_string(),
            survey_valid_days: i64::from(cfg.campaigns.survey_valid_days),
        })
    }
}

/// Saves a campaign file's text as a draft (or replaces a draft).
pub async fn save(store: &Store, text: &str, by: &str, clock: &Clock) -> Result<CampaignRow> {
    let spec = CampaignSpec::parse(text).map_err(|e| anyhow::anyhow!("campaign file: {e}"))?;
    store
        .save_campaign(
            &NewCampaign {
                key: &spec.key,
                name_en: &spec.name_en,
                name_zh: &spec.name_zh,
                purpose: spec.purpose.as_str(),
                product_code: spec.product.as_deref(),
                spec: text,
            },
            by,
            clock.now(),
        )
        .await?;
    store
        .campaign_by_key(&spec.key)
        .await?
        .with_context(|| format!("campaign {} vanished after saving", spec.key))
}

/// A campaign planned at a moment: the plan, its counts and what it read.
#[derive(Debug, Clone)]
pub struct Planned {
    pub campaign: CampaignRow,
    pub spec: CampaignSpec,
    pub at: NaiveDateTime,
    /// Where the audience came from (e.g. the segment code and its date).
    pub audience_source: String,
    pub plan: Vec<PlannedCustomer>,
    pub counts: PlanCounts,
    /// Of `counts.blocked_suitability`, the members the product's
    /// suitability allowed but the responsible-lending rule refused (a
    /// credit product).
    pub blocked_lending: u64,
    points: HashMap<i64, ContactPoint>,
}

/// The preview as printed and returned by the API.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub campaign: String,
    pub status: String,
    pub at: NaiveDateTime,
    pub audience: String,
    pub audience_source: String,
    pub counts: PlanCounts,
    /// Of `counts.blocked_suitability`, those refused by the
    /// responsible-lending rule.
    pub blocked_lending: u64,
}

impl Planned {
    pub fn preview(&self) -> Preview {
        Preview {
            campaign: self.campaign.key.clone(),
            status: self.campaign.status.clone(),
            at: self.at,
            audience: self.spec.audience.to_string(),
            audience_source: self.audience_source.clone(),
            counts: self.counts.clone(),
            blocked_lending: self.blocked_lending,
        }
    }
}

/// Resolves the audience to customer ids (sorted) and says where it came from.
async fn audience(
    store: &Store,
    spec: &CampaignSpec,
    points: &HashMap<i64, ContactPoint>,
) -> Result<(Vec<i64>, String)> {
    let mut ids = match &spec.audience {
        Audience::Segment { code } => {
            let (as_of, ids) = store
                .latest_segment_members(code)
                .await?
                .with_context(|| format!("audience: segment {code:?} has no saved members"))?;
            (ids, format!("segment {code} as of {as_of}"))
        }
        Audience::HolidayNeed { holiday, need } => {
            let prefix = format!("holiday:{holiday}:");
            let suffix = format!(":{need}");
            let best = store
                .segments()
                .await?
                .into_iter()
                .filter(|s| s.code.starts_with(&prefix) && s.code.ends_with(&suffix))
                .max_by(|a, b| a.code.cmp(&b.code));
            let Some(seg) = best else {
                bail!(
                    "audience: no saved need segment {prefix}<year>{suffix}; run \
                     `rapport report holiday --holiday {holiday} --year YEAR` first"
                );
            };
            let (as_of, ids) = store
                .latest_segment_members(&seg.code)
                .await?
                .with_context(|| format!("audience: segment {} has no members", seg.code))?;
            (ids, format!("segment {} as of {as_of}", seg.code))
        }
        Audience::CampaignRecipients { campaign } => {
            let c = store
                .campaign_by_key(campaign)
                .await?
                .with_context(|| format!("audience: no campaign {campaign:?}"))?;
            if c.status != "launched" {
                bail!(
                    "audience: campaign {campaign} is {}, not launched",
                    c.status
                );
            }
            (
                store.campaign_recipients(c.id).await?,
                format!("customers campaign {campaign} sent to"),
            )
        }
        Audience::All => (points.keys().copied().collect(), "every customer".into()),
    };
    ids.0.sort_unstable();
    ids.0.dedup();
    Ok(ids)
}

fn reachable_on(p: &ContactPoint, consents: &[ConsentRecord]) -> Vec<SendChannel> {
    let has = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    let bound = |ch: &str| consents.iter().any(|c| c.channel == ch);
    let mut out = Vec::new();
    if has(&p.phone) {
        out.extend([SendChannel::Sms, SendChannel::Phone, SendChannel::Meeting]);
    }
    if has(&p.email) {
        out.push(SendChannel::Email);
    }
    if bound("mobile") {
        out.push(SendChannel::AppPush);
    }
    if bound("wechat") {
        out.push(SendChannel::Wechat);
    }
    out
}

/// Plans a stored campaign at the clock's local time.
pub async fn plan_campaign(
    store: &Store,
    settings: &CampaignSettings,
    campaign: CampaignRow,
    clock: &Clock,
) -> Result<Planned> {
    let spec = CampaignSpec::parse(&campaign.spec)
        .map_err(|e| anyhow::anyhow!("campaign {}: {e}", campaign.key))?;
    if spec.channels.contains(&SendChannel::Meeting) && settings.video_base_url.is_empty() {
        bail!(
            "campaign {}: the meeting channel needs campaigns.video_base_url (the base of the video links)",
            spec.key
        );
    }
    let at = clock.local();
    let inputs = plan_inputs(store).await?;
    let (points, consents, dnd) = (&inputs.points, &inputs.consents, &inputs.dnd);
    let (ids, audience_source) = audience(store, &spec, points).await?;
    let longest = settings
        .policy
        .caps
        .iter()
        .map(|c| i64::from(c.days))
        .max()
        .unwrap_or(0);
    let mut history: HashMap<i64, Vec<SentMessage>> = HashMap::new();
    for (cid, _mid, channel, purpose, when) in
        store.send_history(at - Duration::days(longest + 1)).await?
    {
        if let (Some(channel), Some(purpose)) =
            (SendChannel::parse(&channel), Purpose::parse(&purpose))
        {
            history.entry(cid).or_default().push(SentMessage {
                channel,
                purpose,
                at: when,
            });
        }
    }
    let product = match &spec.product {
        Some(code) => Some(settings.matching.catalogue.get(code).with_context(|| {
            format!(
                "campaign {}: product {code} is not in the catalogue",
                spec.key
            )
        })?),
        None => None,
    };
    let risks: HashMap<i64, Option<Assessment>> = if product.is_some() {
        store
            .customer_risks()
            .await?
            .into_iter()
            .map(|(id, tol, on)| {
                let a = match (tol.as_deref().map(RiskTolerance::parse), on) {
                    (Some(Ok(tolerance)), Some(assessed_on)) => Some(Assessment {
                        tolerance,
                        assessed_on,
                    }),
                    _ => None,
                };
                (id, a)
            })
            .collect()
    } else {
        HashMap::new()
    };

    // A credit product is an offer of credit: the responsible-lending rule
    // is checked for every member, with the facts the store holds today
    // (arrears, open alerts, band) and the debt-service ratio and salary
    // gap kept with the customer's latest stored next best action.
    let mut lending_blocks: HashMap<i64, String> = HashMap::new();
    if let Some(p) = product.filter(|p| p.credit) {
        for id in &ids {
            let detail = store
                .latest_recommendation_detail(*id)
                .await?
                .unwrap_or_default();
            let facts =
                crate::recommendations::credit_facts_now(store, *id, &detail, at.date()).await?;
            let d = check_lending(&settings.matching.lending, p, &facts, SuitContext::Offer);
            if !d.allowed {
                lending_blocks.insert(*id, format!("{} / {}", d.reason_en, d.reason_zh));
            }
        }
    }

    let empty_c: Vec<ConsentRecord> = Vec::new();
    let empty_h: Vec<SentMessage> = Vec::new();
    let reach: Vec<Vec<SendChannel>> = ids
        .iter()
        .map(|id| match points.get(id) {
            Some(p) => reachable_on(p, consents.get(id).unwrap_or(&empty_c)),
            None => Vec::new(),
        })
        .collect();
    let candidates: Vec<Candidate<'_>> = ids
        .iter()
        .zip(&reach)
        .map(|(id, reach)| Candidate {
            customer_id: *id,
            customer_key: points.get(id).map_or("", |p| p.key.as_str()),
            consents: consents.get(id).unwrap_or(&empty_c),
            do_not_disturb: dnd.contains(id),
            history: history.get(id).unwrap_or(&empty_h),
            reachable_on: reach,
            suitability: product.map(|p| {
                let a = risks.get(id).copied().flatten();
                let d = check_product(
                    &settings.matching.policy,
                    p,
                    a.as_ref(),
                    at.date(),
                    SuitContext::Offer,
                );
                if !d.allowed {
                    Err(format!("{} / {}", d.reason_en, d.reason_zh))
                } else if let Some(why) = lending_blocks.get(id) {
                    Err(why.clone())
                } else {
                    Ok(())
                }
            }),
        })
        .collect();
    let mut lending_only: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for c in &candidates {
        if matches!(&c.suitability, Some(Err(why)) if lending_blocks.get(&c.customer_id) == Some(why))
        {
            lending_only.insert(c.customer_id);
        }
    }
    let plan = plan(&spec, &settings.policy, &candidates, at);
    let counts = PlanCounts::of(&plan);
    let blocked_lending = plan
        .iter()
        .filter(|p| {
            lending_only.contains(&p.customer_id)
                && matches!(
                    p.outcome,
                    Outcome::Blocked {
                        reason: rapport_engage::campaign::BlockReason::Suitability,
                        ..
                    }
                )
        })
        .count() as u64;
    Ok(Planned {
        campaign,
        spec,
        at,
        audience_source,
        plan,
        counts,
        blocked_lending,
        points: ids
            .iter()
            .filter_map(|id| points.get(id).map(|p| (*id, p.clone())))
            .collect(),
    })
}

/// The bank-wide facts every campaign plan reads (contact points, consents,
/// do-not-disturb): kept until the next import, scoring run or operational
/// write (`crate::memo`), so a preview costs its audience, not the bank.
/// What depends on the time (quiet hours, the caps' send history) is read
/// on every plan.
struct PlanInputs {
    points: HashMap<i64, ContactPoint>,
    consents: HashMap<i64, Vec<ConsentRecord>>,
    dnd: std::collections::HashSet<i64>,
}

async fn plan_inputs(store: &Store) -> Result<std::sync::Arc<PlanInputs>> {
    use rapport_store::generation::Domain;
    crate::memo::get(
        store,
        "campaign.plan_inputs",
        "",
        &[Domain::Data, Domain::Work],
        || async {
            let points = store
                .contact_points()
                .await?
                .into_iter()
                .map(|p| (p.customer_id, p))
                .collect();
            let mut consents: HashMap<i64, Vec<ConsentRecord>> = HashMap::new();
            for (id, c) in store.all_consents().await? {
                if let Some(r) = crate::consents::consent_record(c) {
                    consents.entry(id).or_default().push(r);
                }
            }
            let dnd = store
                .do_not_disturb_customers()
                .await?
                .into_iter()
                .collect();
            Ok(PlanInputs {
                points,
                consents,
                dnd,
            })
        },
    )
    .await
}

/// Computes and keeps the bank-wide plan inputs for the data as it stands
/// (the refresher, `crate::warm`). Reads only.
pub async fn warm_plan_inputs(store: &Store) -> Result<()> {
    plan_inputs(store).await.map(|_| ())
}

/// Plans a campaign by key.
pub async fn plan_by_key(
    store: &Store,
    settings: &CampaignSettings,
    key: &str,
    clock: &Clock,
) -> Result<Planned> {
    let campaign = store
        .campaign_by_key(key)
        .await?
        .with_context(|| format!("no campaign {key:?} (save it with `rapport campaign save`)"))?;
    plan_campaign(store, settings, campaign, clock).await
}

/// What a launch did.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchReport {
    pub campaign: String,
    pub at: NaiveDateTime,
    pub counts: PlanCounts,
    pub queued: usize,
    pub decisions_logged: usize,
    pub survey_links: usize,
}

fn opt_out(channel: SendChannel, lang: Lang) -> &'static str {
    match (channel, lang) {
        (SendChannel::Sms, Lang::Zh) => "回复TD退订",
        (SendChannel::Sms, Lang::En) => "Reply TD to opt out.",
        (SendChannel::Email, Lang::Zh) => "如不愿再收到营销邮件，请回复“退订”。",
        (SendChannel::Email, Lang::En) => "Reply \"unsubscribe\" to stop marketing e-mails.",
        (SendChannel::AppPush | SendChannel::Wechat, Lang::Zh) => {
            "可在“设置—消息通知”中关闭营销消息。"
        }
        (SendChannel::AppPush | SendChannel::Wechat, Lang::En) => {
            "Turn marketing messages off under Settings > Notifications."
        }
        (SendChannel::Phone | SendChannel::Meeting, Lang::Zh) => {
            "如不希望再接到营销联系，请告知我们。"
        }
        (SendChannel::Phone | SendChannel::Meeting, Lang::En) => {
            "Tell us if you would rather not be contacted about offers."
        }
    }
}

/// The personal fields of one customer's message (see
/// `rapport_engage::campaign::TEMPLATE_FIELDS`).
fn message_fields(
    point: &ContactPoint,
    lang: Lang,
    channel: SendChannel,
    product: Option<&rapport_matching::Product>,
    survey_link: Option<String>,
    video_link: Option<String>,
) -> BTreeMap<&'static str, String> {
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    fields.insert(
        "name",
        point.name.clone().unwrap_or_else(|| {
            match lang {
                Lang::Zh => "客户",
                Lang::En => "customer",
            }
            .into()
        }),
    );
    fields.insert("customer_key", point.key.clone());
    fields.insert(
        "rm",
        point
            .rm_name
            .clone()
            .or_else(|| point.branch_name.clone())
            .unwrap_or_default(),
    );
    fields.insert("branch", point.branch_name.clone().unwrap_or_default());
    fields.insert("opt_out", opt_out(channel, lang).into());
    if let Some(prod) = product {
        fields.insert(
            "product",
            match lang {
                Lang::Zh => prod.name_zh.clone(),
                Lang::En => prod.name_en.clone(),
            },
        );
    }
    if let Some(link) = survey_link {
        fields.insert("survey_link", link);
    }
    fields.insert("video_link", video_link.unwrap_or_default());
    fields
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Launches a planned draft: members, messages, survey links and decisions.
pub async fn launch(
    store: &Store,
    settings: &CampaignSettings,
    planned: &Planned,
    by: &str,
    clock: &Clock,
) -> Result<LaunchReport> {
    let p = planned;
    if p.campaign.status != "draft" {
        bail!(
            "campaign {} is {}, not a draft",
            p.campaign.key,
            p.campaign.status
        );
    }
    let spec = &p.spec;
    let product = spec
        .product
        .as_deref()
        .and_then(|c| settings.matching.catalogue.get(c));
    let context = format!("campaign:{}", spec.key);
    let mut members = Vec::with_capacity(p.plan.len());
    let mut messages = Vec::new();
    let mut invitations = Vec::new();
    let mut decisions = Vec::new();
    for pc in &p.plan {
        for d in &pc.decisions {
            decisions.push(ContactDecisionRow {
                customer_id: pc.customer_id,
                channel: d.channel.as_str().into(),
                purpose: d.purpose.as_str().into(),
                send_at: p.at,
                allowed: d.allowed,
                code: d.code.as_str().into(),
                defer_until: d.defer_until,
                reason: format!("{} / {}", d.reason_en, d.reason_zh),
                context: context.clone(),
                decided_by: by.into(),
            });
        }
        match &pc.outcome {
            Outcome::Blocked {
                reason,
                reason_en,
                reason_zh,
            } => members.push(MemberRow {
                customer_id: pc.customer_id,
                arm: "blocked".into(),
                channel: None,
                block_reason: Some(reason.as_str().into()),
                reason: Some(format!("{reason_en} / {reason_zh}")),
            }),
            Outcome::Control { channel } => members.push(MemberRow {
                customer_id: pc.customer_id,
                arm: "control".into(),
                channel: Some(channel.as_str().into()),
                block_reason: None,
                reason: None,
            }),
            Outcome::Send { channel, at } => {
                let point = p
                    .points
                    .get(&pc.customer_id)
                    .with_context(|| format!("customer {} has no contact point", pc.customer_id))?;
                let lang = point
                    .language
                    .as_deref()
                    .and_then(Lang::parse)
                    .unwrap_or(spec.default_lang);
                let survey_link = match &spec.survey {
                    Some(survey) => {
                        let token = random_hex(24);
                        invitations.push(NewInvitation {
                            customer_id: pc.customer_id,
                            survey: survey.clone(),
                            token_sha256: crate::access::token_hash(&token),
                            expires_at: clock.now() + Duration::days(settings.survey_valid_days),
                        });
                        Some(format!("{}/s/{token}", settings.public_url))
                    }
                    None => None,
                };
                let video_link = (*channel == SendChannel::Meeting)
                    .then(|| format!("{}/{}", settings.video_base_url, random_hex(8)));
                let fields =
                    message_fields(point, lang, *channel, product, survey_link, video_link);
                let m = spec
                    .template
                    .render(lang, &fields)
                    .map_err(|e| anyhow::anyhow!("campaign {}: {e}", spec.key))?;
                let address = match channel {
                    SendChannel::Sms | SendChannel::Phone | SendChannel::Meeting => {
                        point.phone.clone()
                    }
                    SendChannel::Email => point.email.clone(),
                    SendChannel::AppPush | SendChannel::Wechat => Some(point.key.clone()),
                }
                .with_context(|| format!("customer {} has no address for {channel}", point.key))?;
                members.push(MemberRow {
                    customer_id: pc.customer_id,
                    arm: "treatment".into(),
                    channel: Some(channel.as_str().into()),
                    block_reason: None,
                    reason: None,
                });
                messages.push(NewMessage {
                    customer_id: pc.customer_id,
                    channel: channel.as_str().into(),
                    purpose: spec.purpose.as_str().into(),
                    idempotency_key: format!("{}.{}", spec.key, pc.customer_id),
                    address,
                    lang: lang.as_str().into(),
                    subject: m.subject,
                    body: m.body,
                    scheduled_at: *at,
                    window_end: spec.window.end,
                });
            }
        }
    }
    let counts_json = serde_json::to_string(&p.counts)?;
    let ids = store
        .launch_campaign(
            p.campaign.id,
            &members,
            &messages,
            &decisions,
            &invitations,
            &counts_json,
            by,
            clock.now(),
        )
        .await?;
    Ok(LaunchReport {
        campaign: spec.key.clone(),
        at: p.at,
        counts: p.counts.clone(),
        queued: ids.len(),
        decisions_logged: decisions.len(),
        survey_links: invitations.len(),
    })
}

/// A launched campaign's results with the uplift over the control group.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    pub campaign: String,
    pub status: String,
    pub launch_counts: Option<serde_json::Value>,
    pub figures: rapport_store::CampaignFigures,
    /// Acceptance uplift of the treated over the control group.
    pub uplift: Option<rapport_engage::campaign::Uplift>,
    /// Share of treated customers who responded.
    pub response_rate: Option<f64>,
    /// Messages that went out (sent, delivered or responded).
    pub sent: i64,
    /// Messages known delivered (a receipt, or a response, proves it).
    pub delivered: i64,
    /// The follow-up survey's results (NPS, CSAT): the campaign's own survey,
    /// else the survey of a follow-up campaign to its recipients. The
    /// survey's answers from every campaign that carried it.
    pub follow_up_survey: Option<crate::surveys::SurveyResults>,
}

/// The campaign's figures and uplift (acceptances within the attribution window).
pub async fn report(store: &Store, key: &str) -> Result<CampaignReport> {
    let c = store
        .campaign_by_key(key)
        .await?
        .with_context(|| format!("no campaign {key:?}"))?;
    let spec = CampaignSpec::parse(&c.spec).map_err(|e| anyhow::anyhow!("campaign {key}: {e}"))?;
    let from = c.launched_at.unwrap_or(c.created_at);
    let to = from + Duration::days(i64::from(spec.attribution_days));
    let figures = store
        .campaign_figures(c.id, c.product_code.as_deref(), from, to)
        .await?;
    let uplift = rapport_engage::campaign::uplift(
        figures.treatment as u64,
        figures.treatment_accepted as u64,
        figures.control as u64,
        figures.control_accepted as u64,
    );
    let response_rate =
        (figures.treatment > 0).then(|| figures.responded as f64 / figures.treatment as f64);
    let count = |states: &[&str]| -> i64 {
        figures
            .by_status
            .iter()
            .filter(|(s, _)| states.contains(&s.as_str()))
            .map(|(_, n)| *n)
            .sum()
    };
    let sent = count(&["sent", "delivered", "responded"]);
    let delivered = count(&["delivered", "responded"]);
    let survey_key = match &spec.survey {
        Some(k) => Some(k.clone()),
        None => store.campaigns().await?.into_iter().find_map(|f| {
            let fs = CampaignSpec::parse(&f.spec).ok()?;
            match fs.audience {
                Audience::CampaignRecipients { campaign } if campaign == c.key => fs.survey,
                _ => None,
            }
        }),
    };
    let follow_up_survey = match survey_key {
        Some(k) => crate::surveys::survey_results(store, &k).await.ok(),
        None => None,
    };
    Ok(CampaignReport {
        campaign: c.key,
        status: c.status,
        launch_counts: c
            .launch_counts
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        figures,
        uplift,
        response_rate,
        sent,
        delivered,
        follow_up_survey,
    })
}

/// Saves a campaign draft from its file text as `actor` (who needs
/// [`Permission::RunCampaigns`] over the whole bank); audited.
pub async fn save_as(
    store: &Store,
    actor: &Actor,
    via: &str,
    text: &str,
    clock: &Clock,
) -> ServiceResult<CampaignRow> {
    require_bank_wide(actor)?;
    let c = save(store, text, actor.name(), clock)
        .await
        .map_err(|e| invalid_unless_store("campaign", e))?;
    // An edit voids the approval of the text it replaces.
    store
        .supersede_campaign_approvals(c.id, &spec_sha256(&c.spec))
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "campaign.save",
            "campaign",
            Some(c.key.clone()),
            None,
            json!({ "via": via }),
        )])
        .await?;
    Ok(c)
}

/// A campaign reaches customers of every branch: only a bank-wide actor
/// with [`Permission::RunCampaigns`] runs one.
pub fn require_bank_wide(actor: &Actor) -> ServiceResult<()> {
    actor.require(Permission::RunCampaigns)?;
    if !matches!(actor.scope(), rapport_store::Scope::All) {
        return Err(ServiceError::Access(
            crate::access::AccessError::Forbidden {
                who: actor.name().to_string(),
                role: match actor {
                    Actor::Staff(s) => s.role,
                    Actor::System { .. } => crate::access::Role::Admin,
                },
                permission: Permission::RunCampaigns,
            },
        ));
    }
    Ok(())
}

/// Launches the planned draft as `actor` (bank-wide, with
/// [`Permission::RunCampaigns`]): a launched campaign is a
/// [`ServiceError::Conflict`]; audited.
pub async fn launch_as(
    store: &Store,
    settings: &CampaignSettings,
    actor: &Actor,
    via: &str,
    planned: &Planned,
    clock: &Clock,
) -> ServiceResult<LaunchReport> {
    require_bank_wide(actor)?;
    if planned.campaign.status != "draft" {
        return Err(ServiceError::Conflict(format!(
            "campaign {} is {}",
            planned.campaign.key, planned.campaign.status
        )));
    }
    // Maker-checker: only the version a second person approved goes out.
    let state = state_of(store, &planned.campaign).await?;
    if state.code != "approved" {
        return Err(ServiceError::InvalidTransition(format!(
            "campaign {} is {} and cannot be launched: it must first be submitted and approved \
             by a second head-office manager",
            planned.campaign.key,
            state.code.replace('_', " ")
        )));
    }
    let r = launch(store, settings, planned, actor.name(), clock)
        .await
        .map_err(|e| invalid_unless_store("campaign", e))?;
    store
        .append_audit(&[entry_for(
            actor,
            "campaign.launch",
            "campaign",
            Some(planned.campaign.key.clone()),
            None,
            json!({ "via": via, "queued": r.queued, "control": r.counts.control }),
        )])
        .await?;
    Ok(r)
}

/// Records a customer's response to a sent message (by its idempotency key)
/// as `actor`, who heard it (needs [`Permission::RecordOutcomes`] or
/// [`Permission::RunCampaigns`], and the customer in scope): accepted,
/// declined, replied or unsubscribed (which turns do-not-disturb on); audited.
pub async fn record_response(
    store: &Store,
    actor: &Actor,
    via: &str,
    message: &str,
    response: &str,
    clock: &Clock,
) -> ServiceResult<()> {
    if actor.require(Permission::RecordOutcomes).is_err() {
        actor.require(Permission::RunCampaigns)?;
    }
    if !matches!(
        response,
        "accepted" | "declined" | "replied" | "unsubscribed"
    ) {
        return Err(ServiceError::invalid(
            "response",
            format!("{response:?}: accepted, declined, replied or unsubscribed"),
        ));
    }
    let not_found = || ServiceError::not_found(format!("message with idempotency key {message:?}"));
    let m = store.message_by_key(message).await?.ok_or_else(not_found)?;
    if !store
        .customer_in_scope(&actor.scope(), m.customer_id)
        .await?
    {
        return Err(not_found());
    }
    let moved = store
        .move_message(
            m.id,
            &["sent", "delivered", "responded"],
            "responded",
            m.attempts,
            None,
            Some(response),
            None,
            clock.now(),
        )
        .await?;
    if !moved {
        return Err(ServiceError::InvalidTransition(format!(
            "message {message} is {} and cannot take a response",
            m.status
        )));
    }
    if response == "unsubscribed" {
        store
            .set_do_not_disturb(
                m.customer_id,
                true,
                Some("unsubscribed from a campaign message"),
                "campaign",
                clock.now(),
            )
            .await?;
    }
    store
        .append_audit(&[entry_for(
            actor,
            "campaign.response",
            "outbox_message",
            Some(m.id.to_string()),
            Some(m.customer_id),
            json!({ "via": via, "response": response }),
        )])
        .await?;
    Ok(())
}

// ---- Maker-checker: submit, approve or return, and the state shown ----

/// The SHA-256 of a campaign's spec text: the version an approval covers.
pub fn spec_sha256(spec: &str) -> String {
    hex::encode(Sha256::digest(spec.as_bytes()))
}

/// The states a campaign is shown in, in the order of its life.
pub const STATES: &[&str] = &[
    "draft",
    "awaiting_approval",
    "returned",
    "approved",
    "launched",
    "cancelled",
];

/// Where a campaign stands: the stored status with the maker-checker's
/// latest decision on the current version of its spec.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignState {
    /// One of [`STATES`].
    pub code: &'static str,
    /// The latest submission of the campaign, if any.
    pub approval: Option<ApprovalRow>,
}

/// The state of a campaign given its latest submission: launched and
/// cancelled as stored; a draft is awaiting approval, approved or returned
/// when its latest submission covers the spec it has now, else a draft.
pub fn state_from(c: &CampaignRow, latest: Option<&ApprovalRow>) -> CampaignState {
    let code = match c.status.as_str() {
        "launched" => "launched",
        "cancelled" => "cancelled",
        _ => {
            let sha = spec_sha256(&c.spec);
            match latest
                .filter(|a| a.spec_sha256 == sha)
                .map(|a| a.state.as_str())
            {
                Some("submitted") => "awaiting_approval",
                Some("approved") => "approved",
                Some("rejected") => "returned",
                _ => "draft",
            }
        }
    };
    CampaignState {
        code,
        approval: latest.cloned(),
    }
}

/// The state of a stored campaign.
pub async fn state_of(store: &Store, c: &CampaignRow) -> ServiceResult<CampaignState> {
    let approvals = store.campaign_approvals(c.id).await?;
    Ok(state_from(c, approvals.first()))
}

/// A campaign with its state.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignLine {
    pub campaign: CampaignRow,
    pub state: CampaignState,
}

/// Every campaign with its state, newest first, for a bank-wide actor with
/// [`Permission::RunCampaigns`].
pub async fn list_as(store: &Store, actor: &Actor) -> ServiceResult<Vec<CampaignLine>> {
    require_bank_wide(actor)?;
    let latest: HashMap<i64, ApprovalRow> = store
        .latest_campaign_approvals()
        .await?
        .into_iter()
        .map(|a| (a.campaign_id, a))
        .collect();
    Ok(store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let state = state_from(&c, latest.get(&c.id));
            CampaignLine { campaign: c, state }
        })
        .collect())
}

/// One campaign with its state and every submission (newest first).
pub async fn get_as(
    store: &Store,
    actor: &Actor,
    key: &str,
) -> ServiceResult<(CampaignLine, Vec<ApprovalRow>)> {
    require_bank_wide(actor)?;
    let c = store
        .campaign_by_key(key)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("campaign {key:?}")))?;
    let approvals = store.campaign_approvals(c.id).await?;
    let state = state_from(&c, approvals.first());
    Ok((CampaignLine { campaign: c, state }, approvals))
}

/// Submits a draft for approval as `actor` (its maker); audited. A draft
/// already awaiting approval or approved in this version is a conflict.
pub async fn submit_as(
    store: &Store,
    actor: &Actor,
    via: &str,
    key: &str,
    clock: &Clock,
) -> ServiceResult<ApprovalRow> {
    let (line, _) = get_as(store, actor, key).await?;
    let c = &line.campaign;
    match line.state.code {
        "draft" | "returned" => {}
        other => {
            return Err(ServiceError::InvalidTransition(format!(
                "campaign {key} is {} and cannot be submitted",
                other.replace('_', " ")
            )))
        }
    }
    let sha = spec_sha256(&c.spec);
    store.supersede_campaign_approvals(c.id, &sha).await?;
    let id = store
        .submit_campaign_approval(c.id, &sha, actor.name(), clock.now())
        .await?
        .ok_or_else(|| ServiceError::Conflict(format!("campaign {key} is already submitted")))?;
    store
        .append_audit(&[entry_for(
            actor,
            "campaign.submit",
            "campaign",
            Some(c.key.clone()),
            None,
            json!({ "via": via, "approval": id, "spec_sha256": sha }),
        )])
        .await?;
    let (_, approvals) = get_as(store, actor, key).await?;
    approvals
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ServiceError::Conflict(format!("campaign {key}: submission vanished")))
}

/// The refusal when the maker of a campaign tries to approve (or return) it.
pub const MAKER_CANNOT_APPROVE: &str =
    "the maker of a campaign cannot approve it: a second head-office manager must / \
     活动的发起人不能审批自己的活动，须由另一位总行经理审批";

/// Approves (`approve = true`) or returns a campaign awaiting approval, as
/// `actor`: a bank-wide actor with [`Permission::ApproveCampaigns`] who is
/// neither the campaign's creator nor who submitted it
/// ([`ServiceError::Refused`] with [`MAKER_CANNOT_APPROVE`]); audited.
pub async fn decide_as(
    store: &Store,
    actor: &Actor,
    via: &str,
    key: &str,
    approve: bool,
    note: Option<&str>,
    clock: &Clock,
) -> ServiceResult<ApprovalRow> {
    require_bank_wide(actor)?;
    actor.require(Permission::ApproveCampaigns)?;
    let (line, _) = get_as(store, actor, key).await?;
    let c = &line.campaign;
    let pending = match (line.state.code, line.state.approval) {
        ("awaiting_approval", Some(a)) => a,
        (other, _) => {
            return Err(ServiceError::InvalidTransition(format!(
                "campaign {key} is {} and is not awaiting approval",
                other.replace('_', " ")
            )))
        }
    };
    if actor.name() == pending.submitted_by || actor.name() == c.created_by {
        return Err(ServiceError::Refused(MAKER_CANNOT_APPROVE.into()));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let state = if approve { "approved" } else { "rejected" };
    if !store
        .decide_campaign_approval(pending.id, state, actor.name(), note, clock.now())
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "campaign {key}: the submission was decided or replaced meanwhile"
        )));
    }
    store
        .append_audit(&[entry_for(
            actor,
            if approve {
                "campaign.approve"
            } else {
                "campaign.return"
            },
            "campaign",
            Some(c.key.clone()),
            None,
            json!({ "via": via, "approval": pending.id, "maker": pending.submitted_by }),
        )])
        .await?;
    let (_, approvals) = get_as(store, actor, key).await?;
    approvals
        .into_iter()
        .find(|a| a.id == pending.id)
        .ok_or_else(|| ServiceError::Conflict(format!("campaign {key}: decision vanished")))
}

// ---- The builder: a campaign from a form ----

/// A campaign as the builder's form holds it (every field text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// marketing | service
    pub purpose: String,
    /// The audience: a saved segment's code.
    pub segment: String,
    /// A catalogue product code, or empty.
    pub product: String,
    /// A shipped survey key, or empty.
    pub survey: String,
    /// Channels in priority order (the first allowed one is used).
    pub channels: Vec<String>,
    /// Local time, `YYYY-MM-DDTHH:MM`.
    pub window_start: String,
    pub window_end: String,
    /// Percent held back as the control group.
    pub control_percent: String,
    pub subject_zh: String,
    pub subject_en: String,
    pub body_zh: String,
    pub body_en: String,
}

fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn local_time(field: &str, s: &str) -> ServiceResult<NaiveDateTime> {
    let t = s.trim();
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(v) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(v);
        }
    }
    Err(ServiceError::invalid(
        field,
        format!("{t:?} is not a local time YYYY-MM-DDTHH:MM"),
    ))
}

impl Draft {
    /// A new campaign's form: the audience preselected, sent from the next
    /// hour for two weeks, 10 % control, a greeting with the opt-out.
    pub fn blank(segment: Option<&str>, now: NaiveDateTime) -> Draft {
        let start = now + Duration::hours(1);
        let fmt = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:00").to_string();
        Draft {
            purpose: "marketing".into(),
            segment: segment.unwrap_or_default().to_string(),
            channels: vec!["sms".into()],
            window_start: fmt(start),
            window_end: fmt(start + Duration::days(14)),
            control_percent: "10".into(),
            body_zh: "尊敬的{name}：{opt_out}".into(),
            body_en: "Dear {name}, {opt_out}".into(),
            ..Draft::default()
        }
    }

    /// The form of a saved campaign whose audience is a segment (None for
    /// other audiences, which are edited as files).
    pub fn of(spec: &CampaignSpec) -> Option<Draft> {
        let Audience::Segment { code } = &spec.audience else {
            return None;
        };
        let fmt = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M").to_string();
        Some(Draft {
            key: spec.key.clone(),
            name_zh: spec.name_zh.clone(),
            name_en: spec.name_en.clone(),
            purpose: spec.purpose.as_str().into(),
            segment: code.clone(),
            product: spec.product.clone().unwrap_or_default(),
            survey: spec.survey.clone().unwrap_or_default(),
            channels: spec.channels.iter().map(|c| c.as_str().into()).collect(),
            window_start: fmt(spec.window.start),
            window_end: fmt(spec.window.end),
            control_percent: spec.control_percent.to_string(),
            subject_zh: spec.template.subject_zh.clone().unwrap_or_default(),
            subject_en: spec.template.subject_en.clone().unwrap_or_default(),
            body_zh: spec.template.body_zh.clone(),
            body_en: spec.template.body_en.clone(),
        })
    }

    /// The campaign this form describes, checked like a campaign file.
    pub fn spec(&self) -> ServiceResult<CampaignSpec> {
        let purpose = Purpose::parse(self.purpose.trim())
            .ok_or_else(|| ServiceError::invalid("purpose", "marketing or service"))?;
        let mut channels = Vec::new();
        for c in self
            .channels
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
        {
            channels.push(
                SendChannel::parse(c)
                    .ok_or_else(|| ServiceError::invalid("channels", format!("{c:?}")))?,
            );
        }
        let control_percent: f64 = self.control_percent.trim().parse().map_err(|_| {
            ServiceError::invalid(
                "control_percent",
                format!("{:?} is not a number", self.control_percent),
            )
        })?;
        let segment = opt_text(&self.segment)
            .ok_or_else(|| ServiceError::invalid("segment", "choose the audience's segment"))?;
        let spec = CampaignSpec {
            key: self.key.trim().to_string(),
            name_en: self.name_en.trim().to_string(),
            name_zh: self.name_zh.trim().to_string(),
            purpose,
            audience: Audience::Segment { code: segment },
            product: opt_text(&self.product),
            survey: opt_text(&self.survey),
            channels,
            window: rapport_engage::campaign::Window {
                start: local_time("window_start", &self.window_start)?,
                end: local_time("window_end", &self.window_end)?,
            },
            control_percent,
            attribution_days: 30,
            default_lang: Lang::Zh,
            template: rapport_engage::campaign::Template {
                subject_zh: opt_text(&self.subject_zh),
                subject_en: opt_text(&self.subject_en),
                body_zh: self.body_zh.trim().to_string(),
                body_en: self.body_en.trim().to_string(),
            },
        };
        spec.validate()
            .map_err(|e| ServiceError::invalid(&e.field, e.message))?;
        Ok(spec)
    }

    /// The campaign file (TOML) this form describes.
    pub fn text(&self) -> ServiceResult<String> {
        let spec = self.spec()?;
        let text = toml::to_string(&spec)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("writing the campaign: {e}")))?;
        // The file must read back as the same campaign.
        CampaignSpec::parse(&text)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("campaign file: {e}")))?;
        Ok(text)
    }
}

/// Saves the builder's form as a draft as `actor` (bank-wide, with
/// [`Permission::RunCampaigns`]): the segment must have members and the
/// product must be in the catalogue; audited (see [`save_as`]).
pub async fn save_draft_as(
    store: &Store,
    settings: &CampaignSettings,
    actor: &Actor,
    via: &str,
    draft: &Draft,
    clock: &Clock,
) -> ServiceResult<CampaignRow> {
    require_bank_wide(actor)?;
    let spec = draft.spec()?;
    if let Audience::Segment { code } = &spec.audience {
        if store.latest_segment_members(code).await?.is_none() {
            return Err(ServiceError::invalid(
                "segment",
                format!("segment {code:?} has no saved members"),
            ));
        }
    }
    if let Some(p) = &spec.product {
        if settings.matching.catalogue.get(p).is_none() {
            return Err(ServiceError::invalid(
                "product",
                format!("{p:?} is not in the catalogue"),
            ));
        }
    }
    save_as(store, actor, via, &draft.text()?, clock).await
}

/// A message as one real customer of the audience would get it.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub customer_key: String,
    pub channel: String,
    pub zh: rapport_engage::campaign::RenderedMessage,
    pub en: rapport_engage::campaign::RenderedMessage,
}

/// The message rendered in both languages for the first customer the plan
/// reaches, else the first member of the audience on the first channel
/// (one-time links shown as their base with `…`); None for an empty audience.
pub fn sample(planned: &Planned, settings: &CampaignSettings) -> Result<Option<Sample>> {
    let reached = planned.plan.iter().find_map(|pc| match &pc.outcome {
        Outcome::Send { channel, .. } | Outcome::Control { channel } => {
            Some((pc.customer_id, *channel))
        }
        Outcome::Blocked { .. } => None,
    });
    let first = || {
        let id = planned
            .plan
            .iter()
            .map(|pc| pc.customer_id)
            .find(|id| planned.points.contains_key(id))?;
        Some((id, *planned.spec.channels.first()?))
    };
    let Some((customer_id, channel)) = reached.or_else(first) else {
        return Ok(None);
    };
    let Some(point) = planned.points.get(&customer_id) else {
        return Ok(None);
    };
    let spec = &planned.spec;
    let product = spec
        .product
        .as_deref()
        .and_then(|c| settings.matching.catalogue.get(c));
    let render = |lang: Lang| {
        let survey = spec
            .survey
            .as_ref()
            .map(|_| format!("{}/s/…", settings.public_url));
        let video =
            (channel == SendChannel::Meeting).then(|| format!("{}/…", settings.video_base_url));
        let fields = message_fields(point, lang, channel, product, survey, video);
        spec.template
            .render(lang, &fields)
            .map_err(|e| anyhow::anyhow!("campaign {}: {e}", spec.key))
    };
    Ok(Some(Sample {
        customer_key: point.key.clone(),
        channel: channel.as_str().into(),
        zh: render(Lang::Zh)?,
        en: render(Lang::En)?,
    }))
}

// ---- The demo: one campaign awaiting approval, one launched with responses ----

/// The demo's head-office managers: the campaign manager (maker of the
/// launched campaign, printed as `campaign`) and a second one (printed as
/// `approver`, who submitted the National Day campaign the campaign manager
/// can approve).
pub const DEMO_MANAGERS: [(&str, &str); 2] = [
    ("mgr_hq01", "总行营销经理 Campaign manager"),
    ("mgr_hq02", "总行营销复核 Campaign approver"),
];

/// Prepares the campaign manager's journey in the demo store (after the
/// engagement step saved the shipped campaigns): two head-office managers,
/// the National Day campaign submitted for approval, and a National Day
/// offer by telephone approved, launched with a 10 % control group and its
/// calls placed (call tasks for the RMs), with the answers the RMs heard
/// recorded — a simulated share of the customers accepted, declined or
/// replied, as the demo bank's customers.
pub async fn demo_seed(store: &Store, cfg: &crate::config::Config) -> Result<serde_json::Value> {
    let system = Actor::system("demo");
    for (username, display) in DEMO_MANAGERS {
        if store.staff_user_by_name(username).await?.is_none() {
            // No password: `demo_accounts` sets one and prints it.
            store
                .create_staff_user(username, display, "manager", None, "!")
                .await?;
            store
                .append_audit(&[entry_for(
                    &system,
                    "user.create",
                    "staff_user",
                    Some(username.to_string()),
                    None,
                    json!({ "role": "manager", "branch": null, "via": "demo" }),
                )])
                .await?;
        }
    }
    let staff = |name: &'static str| async move {
        crate::access::staff_by_username(store, name, "demo")
            .await
            .map(Actor::Staff)
    };
    let maker = staff(DEMO_MANAGERS[0].0).await?;
    let checker = staff(DEMO_MANAGERS[1].0).await?;
    let clock = Clock::from_config(cfg, Some("2026-09-21T10:00"))?;
    let settings = CampaignSettings::from_config(cfg)?;

    // Awaiting approval: the shipped National Day campaign, submitted by
    // the second manager (so the printed campaign manager may approve it).
    let awaiting = "national_day_2026";
    if store.campaign_by_key(awaiting).await?.is_some() {
        submit_as(store, &checker, "demo", awaiting, &clock).await?;
    }

    // Launched: the same offer by telephone, placed by the RMs.
    let text = rapport_engage::campaign::NATIONAL_DAY
        .replace("national_day_2026", "national_day_call_2026")
        .replace(
            "National Day travel cover",
            "National Day travel cover by phone",
        )
        .replace("国庆出行保障", "国庆出行保障（电话）")
        .replace(
            "channels = [\"app_push\", \"wechat\", \"sms\", \"email\"]",
            "channels = [\"phone\"]",
        );
    let c = save_as(store, &maker, "demo", &text, &clock).await?;
    submit_as(store, &maker, "demo", &c.key, &clock).await?;
    decide_as(store, &checker, "demo", &c.key, true, None, &clock).await?;
    let planned = plan_by_key(store, &settings, &c.key, &clock).await?;
    let launched = launch_as(store, &settings, &maker, "demo", &planned, &clock).await?;
    let dispatched = crate::dispatch::Dispatcher::from_config(store.clone(), cfg)?
        .drain(&clock)
        .await?;
    // The next day the RMs record what they heard.
    clock.advance(Duration::days(1));
    let points: HashMap<i64, ContactPoint> = store
        .contact_points()
        .await?
        .into_iter()
        .map(|p| (p.customer_id, p))
        .collect();
    let mut responses: BTreeMap<&str, u64> = BTreeMap::new();
    let sent = store.campaign_messages(c.id).await?;
    for (i, m) in sent.iter().filter(|m| m.status == "sent").enumerate() {
        let response = match i % 10 {
            0..=2 => "accepted",
            3 | 4 => "declined",
            5 => "replied",
            _ => continue,
        };
        let Some(rm) = points
            .get(&m.customer_id)
            .and_then(|p| p.rm_username.clone())
        else {
            continue;
        };
        let Ok(rm) = crate::access::staff_by_username(store, &rm, "demo").await else {
            continue;
        };
        record_response(
            store,
            &Actor::Staff(rm),
            "demo",
            &m.idempotency_key,
            response,
            &clock,
        )
        .await?;
        *responses.entry(response).or_default() += 1;
    }
    Ok(json!({
        "awaiting_approval": awaiting,
        "launched": c.key,
        "queued": launched.queued,
        "control": launched.counts.control,
        "calls_placed": dispatched.tasks,
        "responses": responses,
    }))
}
