//! The RFC 8288 `Link` header.

/// One entry of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URL, as written.
    pub url: String,
    /// The `rel` parameter (may hold several space-separated relations).
    pub rel: String,
}

/// Parses an RFC 8288 `Link` header: `<https://a/2>; rel="next", <https://a/9>; rel=last`.
/// Malformed entries are skipped.
///
/// ```
/// use singer_sdk::rest::parse_link_header;
/// let links = parse_link_header(r#"<https://a.example/?page=2>; rel="next", <https://a.example/?page=5>; rel="last""#);
/// assert_eq!(links[0].url, "https://a.example/?page=2");
/// assert_eq!(links[1].rel, "last");
/// ```
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let url = rest[open + 1..open + close].trim().to_owned();
        rest = &rest[open + close + 1..];
        // Parameters run to the next entry: a comma outside quotes followed by `<`.
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted && rest[i + 1..].trim_start().starts_with('<') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let rel = params.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("rel")
                .then(|| v.trim().trim_matches('"').to_owned())
        });
        if let Some(rel) = rel {
            links.push(Link { url, rel });
        }
    }
    links
}
