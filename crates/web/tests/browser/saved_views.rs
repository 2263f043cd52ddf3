//! Saved views in a real browser: a branch manager filters the customer
//! list to one band sorted by score, saves it as a shared view in Chinese,
//! opens the list again from the view's link and sees only that band's
//! rows; the view is in the store, shared; an RM of the branch finds it
//! on their own list (in English), opening it within their own book.

use super::common;
use super::harness::{with_password, Session};
use fantoccini::Locator;

/// The bands of the rows on a customer list page.
fn bands(html: &str) -> Vec<String> {
    html.split("<span class=\"band ")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_saves_and_shares_a_view_that_an_rm_opens() {
    let b = common::bank(false, 300).await.unwrap();
    let password = "a browser test password";
    with_password(&b.store, &b.mgr_branch, password).await;
    with_password(&b.store, &b.rm_a, password).await;
    let Some(mut s) = Session::start("saved-views", b.state.clone(), 1400).await else {
        return;
    };
    let c = s.c.clone();

    // The branch manager's list: pick the first band shown, filter by it.
    s.sign_in(&b.mgr_branch, password).await;
    s.open("/customers", "#saved-views").await;
    let band = bands(&c.source().await.unwrap())
        .into_iter()
        .next()
        .expect("the branch's customers have bands");
    s.open(
        &format!("/customers?band={band}&sort=score&dir=desc&page=1"),
        "#saved-views",
    )
    .await;
    assert!(s.text().await.contains("常用视图"), "the bar in Chinese");

    // Save it as a shared view (the form opens from its summary).
    s.click("#saved-open").await;
    s.fill("#saved-name", "本行客户按得分").await;
    s.click("#saved-shared").await;
    s.shot("save-view").await;
    s.submit("#saved-submit").await;
    s.wait_url(&format!("band={band}")).await;
    let link = s.wait_for("a.saved-link").await;
    assert_eq!(link.text().await.unwrap(), "本行客户按得分");
    s.shot("view-saved").await;

    // The store holds it, shared, with the normalised query.
    let rows = b
        .store
        .saved_views_for(b.mgr_branch.id, "customers")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].shared);
    assert_eq!(rows[0].query, format!("band={band}&dir=desc&sort=score"));

    // Open the list plain, then the view from its link: only that band.
    s.open("/customers", "a.saved-link").await;
    let link = c.find(Locator::Css("a.saved-link")).await.unwrap();
    link.click().await.unwrap();
    s.wait_url("sort=score").await;
    s.wait_for("li.saved-view.current").await;
    let shown = bands(&c.source().await.unwrap());
    assert!(!shown.is_empty(), "the view shows rows");
    assert!(shown.iter().all(|x| *x == band), "only {band}: {shown:?}");
    s.shot("view-opened").await;
    s.sign_out().await;

    // An RM of the branch, in English, finds the shared view.
    b.store.set_user_language(b.rm_a.id, "en").await.unwrap();
    s.sign_in(&b.rm_a, password).await;
    s.open("/customers", "#saved-views").await;
    let text = s.text().await;
    assert!(text.contains("Saved views"), "the bar in English");
    assert!(text.contains("本行客户按得分"), "the shared view");
    assert!(text.contains("shared by"));
    s.click("a.saved-link").await;
    s.wait_url("sort=score").await;
    s.wait_for("li.saved-view.current").await;
    let shown = bands(&c.source().await.unwrap());
    assert!(shown.iter().all(|x| *x == band), "only {band}: {shown:?}");
    s.shot("rm-opens-shared-view").await;
    s.finish().await;
    b.cleanup().await;
}
