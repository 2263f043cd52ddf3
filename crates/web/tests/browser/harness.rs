//! The browser tests' harness: headless Chromium driven through WebDriver
//! (chromedriver) against the real server on a loopback port, screenshots
//! per journey under `target/browser-screenshots/<journey>/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them a journey
//! says so and passes, unless `RAPPORT_BROWSER_TESTS=required` (CI), when it
//! fails.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{ClientBuilder, Locator};
use rapport_store::StaffUser;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Driver(pub Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn find(names: &[&str]) -> Option<PathBuf> {
    for n in names {
        for dir in std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .chain(["/usr/bin", "/usr/lib/chromium"])
        {
            let p = PathBuf::from(dir).join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A running server over a test bank and a browser pointed at it.
pub struct Session {
    pub c: fantoccini::Client,
    pub base: String,
    journey: String,
    shots: u32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _driver: Driver,
}

impl Session {
    /// Starts the server over `state` and a headless Chromium `width` px
    /// wide; None (the journey is skipped) when Chromium is not installed
    /// and browser tests are not required.
    pub async fn start(journey: &str, state: rapport_web::AppState, width: u32) -> Option<Session> {
        let required = std::env::var("RAPPORT_BROWSER_TESTS").is_ok_and(|v| v == "required");
        let (Some(driver_bin), Some(chrome)) = (
            find(&["chromedriver"]),
            find(&["chromium", "chromium-browser", "google-chrome"]),
        ) else {
            assert!(
                !required,
                "RAPPORT_BROWSER_TESTS=required but chromedriver/chromium are not installed"
            );
            eprintln!("browser tests skipped: chromedriver or chromium not found (apt-get install chromium chromium-driver)");
            return None;
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(rapport_web::serve(state, listener, async {
            let _ = stopped.await;
        }));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Driver(
            Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if http
                .get(format!("http://127.0.0.1:{port}/status"))
                .send()
                .await
                .is_ok()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start");
        let mut caps = serde_json::Map::new();
        let height = if width < 800 { 844 } else { 1000 };
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chrome.display().to_string(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", format!("--window-size={width},{height}"), "--lang=zh-CN"]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        Some(Session {
            c,
            base,
            journey: journey.to_string(),
            shots: 0,
            stop: Some(stop),
            server: Some(server),
            _driver: driver,
        })
    }

    /// The address of a path on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Goes to a path and waits for `css`.
    pub async fn open(&self, path: &str, css: &str) -> fantoccini::elements::Element {
        self.c.goto(&self.url(path)).await.unwrap();
        self.wait_for(css).await
    }

    /// Saves a numbered screenshot of this journey.
    pub async fn shot(&mut self, name: &str) {
        self.shots += 1;
        let d = shots_dir().join(&self.journey);
        std::fs::create_dir_all(&d).unwrap();
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(d.join(format!("{:02}-{name}.png", self.shots)), png).unwrap();
    }

    /// Waits for an element (the page has loaded after a click).
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        wait_for(&self.c, css).await
    }

    /// Types into a field found by CSS.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Clicks an element found by CSS.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Clicks a form's submit button and waits for the next page: the old
    /// page's root element goes stale. Without this a following `wait_for`
    /// may find an element of the page being left, which then goes stale.
    pub async fn submit(&self, css: &str) {
        let old = self.c.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while old.tag_name().await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "submitting {css} did not load a new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the current URL contains `part` (a form has posted and
    /// redirected).
    pub async fn wait_url(&self, part: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let u = self.c.current_url().await.unwrap().to_string();
            if u.contains(part) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never reached {part}: at {u}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs `user` in with `password` through the sign-in form and waits
    /// for the dashboard.
    pub async fn sign_in(&self, user: &StaffUser, password: &str) {
        self.c.goto(&self.url("/login")).await.unwrap();
        self.wait_for("#login-form").await;
        self.fill("#username", &user.username).await;
        self.fill("#password", password).await;
        self.click("#login-submit").await;
        self.wait_for("#dashboard").await;
    }

    /// Signs out (the sign-in page shows again).
    pub async fn sign_out(&self) {
        self.click("#sign-out").await;
        self.wait_for("#login-form").await;
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.c
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Closes the browser and stops the server.
    pub async fn finish(mut self) {
        let c = self.c.clone();
        c.close().await.unwrap();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.unwrap().unwrap();
        }
    }
}

/// Sets a known password for a test user (the bank's users have none).
pub async fn with_password(store: &rapport_store::Store, user: &StaffUser, password: &str) {
    store
        .set_password_hash(
            user.id,
            &rapport_web::auth::hash_password(password).unwrap(),
        )
        .await
        .unwrap();
}

pub fn shots_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let d = target.join("browser-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Waits for an element (the page has loaded after a click).
pub async fn wait_for(c: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}
