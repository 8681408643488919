//! METRIC lines of the REST client: `http_request_duration` per request and
//! `http_request_count` per pagination, with singer-sdk's tags.
#![cfg(feature = "rest")]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use singer_sdk::rest::{PageNumber, Request, RestClient, Selector};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Value>>>);

struct MetricInfo(Option<String>);

impl Visit for MetricInfo {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "metric_info" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut info = MetricInfo(None);
        event.record(&mut info);
        if let Some(json) = info.0 {
            self.0
                .lock()
                .unwrap()
                .push(serde_json::from_str(&json).unwrap());
        }
    }
}

#[tokio::test]
async fn request_metrics_carry_stream_endpoint_and_status() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let server = MockServer::start().await;
    Mock::given(path("/kinds/a/items"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}])))
        .mount(&server)
        .await;
    Mock::given(path("/kinds/a/items"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let client = RestClient::builder(server.uri())
        .build()
        .unwrap()
        .for_stream("items");
    let context = json!({"kind": "a"});
    let request = Request::get("/kinds/{kind}/items").context(context.as_object().unwrap());
    let records = client
        .pages(request, PageNumber::new("page"), Selector::default())
        .records()
        .await
        .unwrap();
    assert_eq!(records.len(), 1);

    let metrics = capture.0.lock().unwrap().clone();
    let durations: Vec<&Value> = metrics
        .iter()
        .filter(|m| m["metric"] == "http_request_duration")
        .collect();
    assert_eq!(durations.len(), 2);
    for m in &durations {
        assert_eq!(m["type"], "timer");
        assert_eq!(m["tags"]["stream"], "items");
        assert_eq!(m["tags"]["endpoint"], "/kinds/{kind}/items");
        assert_eq!(m["tags"]["http_status_code"], 200);
        assert_eq!(m["tags"]["status"], "succeeded");
        assert!(m["value"].as_f64().unwrap() >= 0.0);
    }
    let counts: Vec<&Value> = metrics
        .iter()
        .filter(|m| m["metric"] == "http_request_count")
        .collect();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0]["type"], "counter");
    assert_eq!(counts[0]["value"], 2);
    assert_eq!(counts[0]["tags"]["context"], json!({"kind": "a"}));
    assert_eq!(counts[0]["tags"]["stream"], "items");
}
