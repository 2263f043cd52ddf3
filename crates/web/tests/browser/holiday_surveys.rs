//! The campaign manager's story: a head-office manager opens the holiday
//! demand page in Chinese, reads the National Day forecast, saves the need
//! segments and follows a need segment's "create a campaign" link; then
//! switches to English and reads the relationship survey's NPS. Figures are
//! checked against the services over the same store.

use super::common;
use super::harness::{with_password, Session};
use fantoccini::Locator;
use rapport_services::access::Actor;
use rapport_services::holiday::demand_view;
use rapport_services::surveys::{demo_seed, survey_results};
use rapport_web::present::money_f;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_office_manager_reads_holiday_demand_and_survey_results() {
    let b = common::bank(false, 300).await.unwrap();
    demo_seed(&b.store).await.unwrap();
    let password = "a browser test password";
    with_password(&b.store, &b.mgr_hq, password).await;
    let view = demand_view(&b.store, &Actor::system("test"), Some("national_day"), None)
        .await
        .unwrap();
    let year = view.report.year;
    let spending = view
        .report
        .rows
        .iter()
        .find(|r| r.segment == "all" && r.group.as_str() == "spending")
        .and_then(|r| r.forecast.clone())
        .expect("a National Day spending forecast");
    let nps = survey_results(&b.store, "nps_relationship").await.unwrap();
    let nps_shown = format!("{:.1}", nps.nps[0].result.nps.unwrap());

    let Some(mut s) = Session::start("holiday-surveys", b.state.clone(), 1280).await else {
        return;
    };
    s.sign_in(&b.mgr_hq, password).await;

    // The National Day forecast, in Chinese.
    s.open("/holiday?holiday=national_day", "#holiday-summary")
        .await;
    let text = s.text().await;
    assert!(text.contains(&format!("国庆节 {year}")), "{text}");
    assert!(text.contains("节日需求预测"));
    let forecast =
        s.c.find(Locator::Css(
            "tr.holiday-all[data-group=\"spending\"] td.forecast",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(forecast, money_f(spending.per_day));
    let interval =
        s.c.find(Locator::Css(
            "tr.holiday-all[data-group=\"spending\"] td.interval",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        interval,
        format!(
            "{} – {}",
            money_f(spending.low_per_day),
            money_f(spending.high_per_day)
        )
    );
    s.shot("national-day-forecast-zh").await;

    // Save the need segments, then follow the liquidity need's link.
    s.click("#holiday-save button").await;
    let liquidity = format!("holiday:national_day:{year}:liquidity");
    let link_css = format!("tr[data-segment=\"{liquidity}\"] a.create-campaign");
    let link = s.wait_for(&link_css).await;
    let segments = b.store.segments().await.unwrap();
    assert!(
        segments.iter().any(|x| x.code == liquidity),
        "the need segment is saved in the store"
    );
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    let key = rapport_web::pages::enc(&liquidity);
    assert!(
        href.ends_with(&format!("/campaigns/new?segment={key}")),
        "{href}"
    );
    s.shot("need-segments-saved").await;
    link.click().await.unwrap();
    s.wait_url(&format!("/campaigns/new?segment={key}")).await;

    // The survey results, in English.
    s.open("/surveys", "#survey-list").await;
    s.click("#switch-language").await;
    s.wait_for("html[lang=\"en\"]").await;
    s.wait_for("#survey-list").await;
    let text = s.text().await;
    assert!(text.contains("Survey results"), "{text}");
    let shown =
        s.c.find(Locator::Css("tr[data-survey=\"nps_relationship\"] td.nps"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert_eq!(shown, nps_shown);
    s.click("tr[data-survey=\"nps_relationship\"] a").await;
    s.wait_for("#survey-nps").await;
    let value =
        s.c.find(Locator::Css("#survey-nps td.nps-value"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert_eq!(value, nps_shown);
    let answered =
        s.c.find(Locator::Css("#survey-answered"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert_eq!(answered, nps.answered.to_string());
    s.shot("nps-en").await;
    s.finish().await;
    b.cleanup().await;
}
