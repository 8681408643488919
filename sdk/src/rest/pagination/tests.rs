use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::*;

fn page(request: &Request, body: Value, headers: &[(&'static str, &str)]) -> Page {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(*k, HeaderValue::from_str(v).unwrap());
    }
    let records = body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Page::new(
        request.clone(),
        "https://api.example.com/v1/items?page=1".parse().unwrap(),
        Response::new(200, map, body.to_string()),
        body,
        records,
    )
}

fn query(next: Next) -> Vec<(String, String)> {
    match next {
        Next::Request(r) => r.query_params().to_vec(),
        Next::Done => panic!("expected a next request"),
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn link_header_parsing() {
    let links = parse_link_header(
        r#"<https://a.example/x?page=2&q="a,b">; rel="next", <https://a.example/x?page=9>; rel="last"; title="x, y""#,
    );
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].url, r#"https://a.example/x?page=2&q="a,b""#);
    assert_eq!(links[0].rel, "next");
    assert_eq!(links[1].rel, "last");
    assert!(parse_link_header("garbage, <no-close").is_empty());
    let multi = parse_link_header("</p/3>; rel=\"prev next\"");
    assert_eq!(multi[0].rel, "prev next");
}

#[test]
fn page_number_stops_at_total_pages() {
    let base = Request::get("/items");
    let mut p = PageNumber::new("page").total_pages(Source::body("$.pages").unwrap());
    let first = p.first(&base);
    assert_eq!(first.query_params(), q(&[("page", "1")]));
    let body = json!({"items": [1], "pages": 2});
    assert_eq!(
        query(p.next(&base, &page(&first, body.clone(), &[])).unwrap()),
        q(&[("page", "2")])
    );
    assert!(matches!(
        p.next(&base, &page(&first, body, &[])).unwrap(),
        Next::Done
    ));
}

#[test]
fn page_number_has_more_and_short_pages() {
    let base = Request::get("/items");
    let mut p = PageNumber::new("p").has_more(Source::body("$.has_more").unwrap());
    let r = p.first(&base);
    assert!(matches!(
        p.next(
            &base,
            &page(&r, json!({"items": [1], "has_more": false}), &[])
        )
        .unwrap(),
        Next::Done
    ));
    let mut p = PageNumber::new("p").page_size("size", 2);
    let r = p.first(&base);
    assert_eq!(r.query_params(), q(&[("p", "1"), ("size", "2")]));
    assert!(matches!(
        p.next(&base, &page(&r, json!({"items": [1]}), &[]))
            .unwrap(),
        Next::Done
    ));
    assert!(matches!(
        p.next(&base, &page(&r, json!({"items": []}), &[])).unwrap(),
        Next::Done
    ));
}

#[test]
fn page_number_predicts_from_a_header_total() {
    let base = Request::get("/items");
    let mut p = PageNumber::new("page")
        .start(0)
        .total_pages(Source::header("x-total-pages"));
    let first = p.first(&base);
    let last = page(&first, json!({"items": [1]}), &[("x-total-pages", "4")]);
    let numbers = |requests: Vec<Request>| -> Vec<String> {
        requests
            .iter()
            .map(|r| r.query_params()[0].1.clone())
            .collect()
    };
    assert_eq!(numbers(p.predict(&base, &last, 2)), ["1", "2"]);
    assert_eq!(numbers(p.predict(&base, &last, 5)), ["3"]);
    assert!(p.predict(&base, &last, 5).is_empty());
    assert!(matches!(p.next(&base, &last).unwrap(), Next::Done));
}

#[test]
fn offset_with_total_predicts_and_stops() {
    let base = Request::get("/items");
    let mut p = Offset::new("offset", "limit", 2).total(Source::body("$.total").unwrap());
    let first = p.first(&base);
    assert_eq!(first.query_params(), q(&[("offset", "0"), ("limit", "2")]));
    let body = json!({"items": [1, 2], "total": 5});
    let predicted = p.predict(&base, &page(&first, body, &[]), 10);
    let offsets: Vec<_> = predicted
        .iter()
        .map(|r| r.query_params()[0].1.clone())
        .collect();
    assert_eq!(offsets, ["2", "4"]);

    let mut p = Offset::new("offset", "limit", 2).total(Source::body("$.total").unwrap());
    let first = p.first(&base);
    let next = p
        .next(
            &base,
            &page(&first, json!({"items": [1, 2], "total": 4}), &[]),
        )
        .unwrap();
    assert_eq!(query(next), q(&[("offset", "2"), ("limit", "2")]));
    assert!(matches!(
        p.next(
            &base,
            &page(&first, json!({"items": [1, 2], "total": 4}), &[])
        )
        .unwrap(),
        Next::Done
    ));
}

#[test]
fn huge_totals_do_not_overflow() {
    let base = Request::get("/items");
    let mut p = PageNumber::new("page")
        .start(5)
        .total_pages(Source::body("$.pages").unwrap());
    let first = p.first(&base);
    let last = page(&first, json!({"items": [1], "pages": u64::MAX}), &[]);
    assert_eq!(p.predict(&base, &last, 3).len(), 3);
    assert!(matches!(p.next(&base, &last).unwrap(), Next::Request(_)));
    let mut p = Offset::new("o", "l", u64::MAX)
        .start(u64::MAX - 1)
        .total(Source::body("$.pages").unwrap());
    let first = p.first(&base);
    let full = Page::new(
        first,
        "https://h.example/".parse().unwrap(),
        Response::new(200, HeaderMap::new(), ""),
        json!({"pages": u64::MAX}),
        vec![json!(1); 3],
    );
    assert!(p.predict(&base, &full, 3).is_empty());
}

#[test]
fn cursor_repeat_is_an_error_naming_the_token() {
    let base = Request::get("/items");
    let mut p = Cursor::new(Source::body("$.next").unwrap(), "cursor");
    let r = p.first(&base);
    let body = json!({"items": [1], "next": "abc"});
    assert_eq!(
        query(p.next(&base, &page(&r, body.clone(), &[])).unwrap()),
        q(&[("cursor", "abc")])
    );
    let err = p.next(&base, &page(&r, body, &[])).unwrap_err().to_string();
    assert!(err.contains("`abc` twice"), "{err}");
    assert!(matches!(
        p.next(&base, &page(&r, json!({"items": [1], "next": null}), &[]))
            .unwrap(),
        Next::Done
    ));
}

#[test]
fn header_cursor_and_empty_pages() {
    let base = Request::get("/items");
    let mut p = Cursor::new(Source::header("X-Next-Page"), "page");
    let r = p.first(&base);
    assert_eq!(
        query(
            p.next(
                &base,
                &page(&r, json!({"items": [1]}), &[("x-next-page", "7")])
            )
            .unwrap()
        ),
        q(&[("page", "7")])
    );
    assert!(matches!(
        p.next(
            &base,
            &page(&r, json!({"items": []}), &[("x-next-page", "8")])
        )
        .unwrap(),
        Next::Done
    ));
    let mut p = Cursor::new(Source::header("X-Next-Page"), "page").continue_if_empty();
    assert!(matches!(
        p.next(
            &base,
            &page(&r, json!({"items": []}), &[("x-next-page", "8")])
        )
        .unwrap(),
        Next::Request(_)
    ));
}

#[test]
fn next_url_resolves_relative_links() {
    let base = Request::get("/items").query("per_page", 10);
    let mut p = NextUrl::link_header();
    let r = p.first(&base);
    let next = p
        .next(
            &base,
            &page(
                &r,
                json!({"items": [1]}),
                &[("link", "</v1/items?page=2&per_page=10>; rel=\"next\"")],
            ),
        )
        .unwrap();
    let Next::Request(next) = next else {
        panic!("expected a next page")
    };
    assert_eq!(
        next.path(),
        "https://api.example.com/v1/items?page=2&per_page=10"
    );
    assert!(next.query_params().is_empty());
    let mut p = NextUrl::new(Source::body("$.links.next").unwrap());
    assert!(matches!(
        p.next(&base, &page(&r, json!({"items": [1], "links": {}}), &[]))
            .unwrap(),
        Next::Done
    ));
}
