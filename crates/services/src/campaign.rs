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
use rapport_store::{
    CampaignRow, ContactDecisionRow, ContactPoint, MemberRow, NewCampaign, NewInvitation,
    NewMessage, Store,
};
use serde::Serialize;
use serde_json::json;
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
    let points: HashMap<i64, ContactPoint> = store
        .contact_points()
        .await?
        .into_iter()
        .map(|p| (p.customer_id, p))
        .collect();
    let (ids, audience_source) = audience(store, &spec, &points).await?;

    let mut consents: HashMap<i64, Vec<ConsentRecord>> = HashMap::new();
    for (id, c) in store.all_consents().await? {
        if let Some(r) = crate::consents::consent_record(c) {
            consents.entry(id).or_default().push(r);
        }
    }
    let dnd: std::collections::HashSet<i64> = store
        .do_not_disturb_customers()
        .await?
        .into_iter()
        .collect();
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
    let plan = plan(&spec, &settings.policy, &candidates, at);
    let counts = PlanCounts::of(&plan);
    Ok(Planned {
        campaign,
        spec,
        at,
        audience_source,
        plan,
        counts,
        points,
    })
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
                fields.insert("opt_out", opt_out(*channel, lang).into());
                if let Some(prod) = product {
                    fields.insert(
                        "product",
                        match lang {
                            Lang::Zh => prod.name_zh.clone(),
                            Lang::En => prod.name_en.clone(),
                        },
                    );
                }
                if let Some(survey) = &spec.survey {
                    let token = random_hex(24);
                    fields.insert("survey_link", format!("{}/s/{token}", settings.public_url));
                    invitations.push(NewInvitation {
                        customer_id: pc.customer_id,
                        survey: survey.clone(),
                        token_sha256: crate::access::token_hash(&token),
                        expires_at: clock.now() + Duration::days(settings.survey_valid_days),
                    });
                }
                if *channel == SendChannel::Meeting {
                    fields.insert(
                        "video_link",
                        format!("{}/{}", settings.video_base_url, random_hex(8)),
                    );
                } else {
                    fields.insert("video_link", String::new());
                }
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
