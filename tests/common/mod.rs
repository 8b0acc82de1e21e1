//! A real server on an ephemeral port, for integration tests.

#![allow(dead_code)]

use std::net::SocketAddr;

use lifeboat::serve::{self, AppState, ServeConfig};

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
}

/// Starts the app on 127.0.0.1:0. The listener is bound before this returns,
/// so requests can be sent at once (no polling, no sleeping).
pub async fn start_with(config: ServeConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(config).unwrap();
    let serving = state.clone();
    tokio::spawn(
        async move { serve::serve_until(listener, &serving, std::future::pending()).await },
    );
    Server {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::new(),
        state,
    }
}

pub async fn start() -> Server {
    start_with(ServeConfig::default()).await
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &str) -> (u16, String, String) {
        let r = self.post(path, "application/json", body.to_string()).await;
        parts(r).await
    }
}

/// Status, Content-Type and body.
pub async fn parts(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

pub const PASSENGER: &str =
    r#"{"Pclass":3,"Sex":"male","Age":22,"SibSp":1,"Parch":0,"Fare":7.25,"Embarked":"S"}"#;
pub const SURVIVOR: &str =
    r#"{"Pclass":1,"Sex":"female","Age":38,"SibSp":1,"Parch":0,"Fare":71.2833,"Embarked":"C"}"#;
pub const CSV: &str =
    "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n3,male,22,1,0,7.25,S\n1,female,38,1,0,71.2833,C\n";
