//! The language rule: a Chinese page shows no English text of the
//! catalogue and no raw code, an English page no Chinese text of the
//! catalogue. Every page reachable from the navigation of every role is
//! rendered in both languages (found by following the nav links), plus a
//! 360 of an at-risk customer with alerts, an alert, a case and the error
//! pages. Only catalogue texts and codes are looked for, so customer data
//! (names, addresses, counterparties) never trips the check.
//!
//! Every GET page route is visited (the test fails when a route of the
//! page modules is neither in a nav nor in the extra pages), and money on
//! any page is shown with thousands separators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, enc, Bank};
use rapport_store::{Scope, StaffUser, Store};
use std::collections::{BTreeMap, BTreeSet};

/// The visible text nodes of a page (script and style left out), decoded.
/// An element marked with a language of its own (`lang="en"` inside the
/// page, e.g. a campaign's message as the customer gets it in English) is
/// content in that language, not the page's: left out too.
pub fn text_nodes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip: Option<&str> = None;
    // (element name, depth of that name) of an element in its own language.
    let mut foreign: Option<(String, usize)> = None;
    for chunk in html.split('<').skip(1) {
        let (tag, text) = chunk.split_once('>').unwrap_or((chunk, ""));
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(s) = skip {
            if tag.starts_with('/') && name == s {
                skip = None;
            }
            continue;
        }
        if let Some((n, depth)) = &mut foreign {
            if *n == name {
                if tag.starts_with('/') {
                    *depth -= 1;
                } else {
                    *depth += 1;
                }
            }
            if *depth == 0 {
                foreign = None;
            }
            continue;
        }
        if !tag.starts_with('/') && name != "html" && tag.contains(" lang=\"") {
            foreign = Some((name, 1));
            continue;
        }
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            skip = Some(if name == "script" { "script" } else { "style" });
            continue;
        }
        let t = text
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'");
        let t = t.trim();
        if !t.is_empty() {
            out.push(t.to_string());
        }
    }
    out
}

fn cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A whole word or phrase `needle` inside `hay` (not a part of a longer word).
fn contains_words(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let at = from + i;
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if edge(before) && edge(after) {
            return true;
        }
        from = at + needle.len();
    }
    false
}

/// What breaks the language rule on a page in `zh` (else English).
pub fn problems(html: &str, zh: bool) -> Vec<String> {
    problems_but(html, zh, &[])
}

/// [`problems`], with the data strings `exempt` (the signed-in user's
/// name …) taken out of the text first.
pub fn problems_but(html: &str, zh: bool, exempt: &[&str]) -> Vec<String> {
    let texts = rapport_web::pages::all_texts();
    let entries: Vec<(&str, &str, &str)> = texts.iter().flat_map(|t| t.iter().copied()).collect();
    let nodes: Vec<String> = text_nodes(html)
        .into_iter()
        .filter(|n| !exempt.contains(&n.as_str()))
        .map(|n| {
            exempt
                .iter()
                .filter(|e| !e.is_empty())
                .fold(n, |n, e| n.replace(e, ""))
        })
        .collect();
    let mut out = Vec::new();
    for node in &nodes {
        for (key, z, en) in &entries {
            if zh {
                // An English text of the catalogue: a whole node equal to
                // it, or a phrase of several words inside a node.
                if en == z || en.chars().count() <= 3 || cjk(en) {
                    continue;
                }
                let phrase = en.contains(' ') && en.chars().count() > 8;
                if node == en || (phrase && contains_words(node, en)) {
                    out.push(format!("English {key} {en:?} in {node:?}"));
                }
                // A raw code of the code catalogue, alone in its node.
                if let Some(code) = key
                    .strip_prefix("code.")
                    .and_then(|k| k.split_once('.'))
                    .map(|(_, c)| c)
                {
                    if node == code && code.chars().any(|c| c.is_ascii_alphabetic()) {
                        out.push(format!("raw code {key} in {node:?}"));
                    }
                }
            } else {
                if z == en || !cjk(z) {
                    continue;
                }
                if node == z || (z.chars().count() >= 5 && node.contains(z)) {
                    out.push(format!("Chinese {key} {z:?} in {node:?}"));
                }
            }
        }
        // Any snake_case code shown as it is stored.
        let snake = node.contains('_')
            && node
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
            && node.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if snake {
            out.push(format!("raw code {node:?}"));
        }
    }
    // Money without thousands separators (`¥12345.67`): not shown through
    // the one formatting function.
    for node in &nodes {
        for (i, _) in node.match_indices('¥') {
            let digits = node[i + '¥'.len_utf8()..]
                .trim_start_matches('-')
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if digits >= 4 {
                out.push(format!("money without separators in {node:?}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The nav links of a page (`<nav>…</nav>`).
fn nav_links(html: &str) -> Vec<String> {
    let Some(nav) = html
        .split("<nav")
        .nth(1)
        .and_then(|n| n.split("</nav>").next())
    else {
        return Vec::new();
    };
    nav.split("href=\"")
        .skip(1)
        .filter_map(|h| h.split('"').next())
        .map(str::to_string)
        .collect()
}

pub async fn at_risk_customer(store: &Store) -> (String, i64) {
    let sql = "SELECT a.customer_id, a.id FROM alert a JOIN health_score h ON h.customer_id = a.customer_id \
               WHERE h.band = 'at_risk' AND h.as_of = (SELECT MAX(as_of) FROM health_score) \
               ORDER BY a.customer_id, a.id LIMIT 1";
    let (id, alert): (i64, i64) = match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    };
    let key = store
        .customer_360(&Scope::All, id)
        .await
        .unwrap()
        .profile
        .key;
    (key, alert)
}

/// Every page of `who`'s nav, and `extra`, in `lang`: path → problems.
async fn check_pages(
    b: &Bank,
    who: &StaffUser,
    lang: &str,
    extra: &[String],
    found: &mut BTreeMap<String, Vec<String>>,
    visited: &mut BTreeSet<String>,
) {
    b.store.set_user_language(who.id, lang).await.unwrap();
    let staff: Vec<String> = b
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|u| [u.username, u.display_name])
        .chain(
            // A campaign's key is its identifier (data, like a customer key).
            b.store
                .campaigns()
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.key),
        )
        .collect();
    let (status, home) = b.get_as(who, "/").await;
    assert_eq!(status, 200, "{} sees the dashboard", who.username);
    let mut paths = nav_links(&home);
    assert!(!paths.is_empty(), "the dashboard has a nav");
    paths.extend(extra.iter().cloned());
    for path in paths {
        let (status, page) = b.get_as(who, &path).await;
        if status == 403 {
            continue;
        }
        visited.insert(path.clone());
        // Staff names and user names are data, not catalogue texts.
        let mut exempt = vec![who.display_name.as_str()];
        exempt.extend(staff.iter().map(String::as_str));
        let p = problems_but(&page, lang == "zh-CN", &exempt);
        if !p.is_empty() {
            found
                .entry(format!("{lang} {path} ({})", who.username))
                .or_default()
                .extend(p);
        }
    }
}

/// A shipped survey's one-time public link for `customer`: its path.
async fn survey_link(b: &Bank, customer: &str) -> String {
    let sys = rapport_services::access::Actor::system("language check");
    let inv = rapport_services::surveys::invite(
        &b.store,
        &sys,
        "test",
        "nps_relationship",
        customer,
        7,
        "https://bank.example",
    )
    .await
    .unwrap();
    inv.link
        .strip_prefix("https://bank.example")
        .unwrap()
        .to_string()
}

/// A cluster segment's code (the segment file clusters the bank).
async fn cluster_segment(store: &Store) -> Option<String> {
    store
        .segment_overview()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .find(|c| c.starts_with("cluster:"))
}

/// GET routes that answer a download or a machine, not a page.
const NOT_PAGES: &[&str] = &["/customers/{key}/export", "/kpis.csv", "/s/{token}"];

async fn story(b: Bank) {
    let (key, alert) = at_risk_customer(&b.store).await;
    let users = [
        &b.admin,
        &b.mgr_branch,
        &b.mgr_hq,
        &b.rm_a,
        &b.agent,
        &b.risk,
        &b.analyst,
        &b.auditor,
    ];
    let mut extra = vec![
        format!("/customers/{}", enc(&key)),
        format!("/alerts/{alert}"),
        format!("/cases/{}", b.own_case),
        format!("/customers/{}/cases/new", enc(&b.own.key)),
        format!("/tasks/customer/{}", enc(&b.own.key)),
        format!("/campaigns/{}", enc(&b.campaign)),
        "/campaigns/new".to_string(),
        "/campaigns?state=draft".to_string(),
        "/surveys/nps_relationship".to_string(),
        "/surveys/holiday_follow_up".to_string(),
        format!("/segments/{}", enc("tier:mass")),
        format!("/admin/users/{}", b.rm_a.id),
        "/account/password".to_string(),
        "/kpis?view=rm".to_string(),
        "/kpis?view=segment".to_string(),
        "/kpis?view=branch".to_string(),
        "/cases?sla=breached".to_string(),
        "/cases?approval=1".to_string(),
        "/cases?all=1&sort=due".to_string(),
        "/holiday?holiday=spring_festival".to_string(),
        "/audit?action=customer.view".to_string(),
        "/customers?page=abc".to_string(),
        "/alerts?page=abc&sort=evil".to_string(),
        "/alerts?status=closed&severity=critical&rule=no_such_rule".to_string(),
        "/no/such/page".to_string(),
        "/alerts/999999999".to_string(),
        "/alerts/abc".to_string(),
    ];
    if let Some(c) = cluster_segment(&b.store).await {
        extra.push(format!("/segments/{}", enc(&c)));
    }
    // The holiday need segments, saved as a campaign manager would.
    let year = b.state.services.clock.local().format("%Y").to_string();
    rapport_services::holiday::save_need_segments(
        &b.store,
        &rapport_services::access::Actor::system("language check"),
        "test",
        "national_day",
        year.parse().unwrap(),
    )
    .await
    .unwrap();
    let mut found = BTreeMap::new();
    let mut visited = BTreeSet::new();
    for lang in ["zh-CN", "en"] {
        for u in users {
            check_pages(&b, u, lang, &extra, &mut found, &mut visited).await;
        }
    }
    // The public pages: sign-in and a survey link, in both languages.
    let link = survey_link(&b, &b.own.key).await;
    for (lang, zh) in [("zh-CN", true), ("en", false)] {
        for path in [format!("/login?lang={lang}"), format!("{link}?lang={lang}")] {
            let req = axum::http::Request::get(&path)
                .body(axum::body::Body::empty())
                .unwrap();
            let (status, page) = common::send(&b.app(), req).await;
            assert_eq!(status.as_u16(), 200, "{path}");
            let p = problems(&page, zh);
            if !p.is_empty() {
                found.insert(format!("{lang} {path} (anonymous)"), p);
            }
        }
    }
    visited.insert("/login".to_string());
    visited.insert(link.clone());

    // Every GET page route was visited by some role.
    let routes: Vec<String> = crate::web_matrix::page_routes()
        .into_iter()
        .filter(|(m, r)| *m == "GET" && !NOT_PAGES.contains(&r.as_str()))
        .map(|(_, r)| r)
        .collect();
    let unvisited: Vec<&String> = routes
        .iter()
        .filter(|r| {
            !visited
                .iter()
                .any(|v| crate::web_matrix::matches_route(v, r))
        })
        .collect();
    assert!(
        unvisited.is_empty(),
        "GET pages the language check does not visit: {unvisited:?}"
    );

    // Segment names are data the catalogue does not hold (a cluster's
    // generated name, a rule segment's name from its file): the Chinese
    // segments page and a Chinese member list show none of the stored
    // English names; the English ones do.
    let stored = b.store.segments().await.unwrap();
    assert!(!stored.is_empty(), "the bank has segments");
    for lang in ["zh-CN", "en"] {
        b.store.set_user_language(b.analyst.id, lang).await.unwrap();
        let (_, list) = b.get_as(&b.analyst, "/segments").await;
        let nodes = text_nodes(&list);
        for seg in &stored {
            let shown = nodes.iter().any(|n| n == &seg.name);
            let named_by_data = seg.kind == "cluster" || seg.kind == "rule";
            assert!(
                if lang == "en" {
                    shown || !named_by_data
                } else {
                    !shown
                },
                "{lang} /segments and the stored name {:?} of {}",
                seg.name,
                seg.code
            );
        }
        if let Some(c) = stored.iter().find(|s| s.kind == "cluster") {
            let (_, page) = b
                .get_as(&b.analyst, &format!("/segments/{}", enc(&c.code)))
                .await;
            let shown = text_nodes(&page).iter().any(|n| n == &c.name);
            assert_eq!(shown, lang == "en", "{lang} members of {}", c.code);
        }
    }

    let failing: Vec<String> = found
        .iter()
        .map(|(page, p)| format!("{page}: {p:#?}"))
        .collect();
    assert!(
        failing.is_empty(),
        "language rule broken:\n{}",
        failing.join("\n")
    );
    b.cleanup().await;
}

#[test]
fn the_check_finds_english_chinese_and_raw_codes() {
    let zh_page = "<html><body><nav><a href=\"/\">总览</a></nav><table><tr><th>Balance</th>\
                   <td>running_arrears</td><td>m</td><td>王芳</td></tr></table></body></html>";
    let p = problems(zh_page, true);
    assert!(p.iter().any(|x| x.contains("col.balance")), "{p:#?}");
    assert!(p.iter().any(|x| x.contains("running_arrears")), "{p:#?}");
    assert!(p.iter().any(|x| x.contains("code.gender.m")), "{p:#?}");
    let en_page = "<p>账户与余额</p><td>王芳</td><td>Balance</td>";
    let p = problems(en_page, false);
    assert!(p.iter().any(|x| x.contains("c360.accounts")), "{p:#?}");
    assert!(!p.iter().any(|x| x.contains("王芳")), "{p:#?}");
    assert!(problems("<p>客户全景</p><td>王芳</td>", true).is_empty());
    let p = problems("<td>月入 ¥12345.67</td><td>¥-7072.00</td>", true);
    assert_eq!(
        p.iter().filter(|x| x.contains("money without")).count(),
        2,
        "{p:#?}"
    );
    assert!(problems("<td>¥12,345.67</td><td>-¥70.72</td>", true).is_empty());
    // Content marked with its own language is not the page's.
    let sample =
        "<div lang=\"en\"><p><strong>Balance</strong></p><div>Balance</div></div><p>余额</p>";
    assert!(
        problems(sample, true).is_empty(),
        "{:#?}",
        problems(sample, true)
    );
    assert!(!problems("<div lang=\"en\"></div><p>Balance</p>", true).is_empty());
    assert!(problems("<p>Customer 360</p><td>王芳</td>", false).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_chinese_and_english_on_sqlite() {
    story(common::bank(false, 300).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_chinese_and_english_on_postgres() {
    let Some(b) = common::bank(true, 300).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL language check skipped");
        return;
    };
    story(b).await;
}
