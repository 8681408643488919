//! The tap's settings, compatible with tap-rest-api-msdk 1.4: top-level defaults, a list of
//! `streams` that override them, authentication, pagination and backoff.
//!
//! [`Config`] is what `--config` deserialises to; [`crate::spec`] checks it and resolves each
//! stream's effective settings before any request is made.

use serde::Deserialize;
use serde_json::{Map, Value};
use singer_sdk::{Schema, Settings};

/// The tap's settings.
#[derive(Debug, Deserialize, Settings)]
pub(crate) struct Config {
    /// The API's base URL, e.g. `https://api.example.com/v1`; each stream's `path` is appended.
    pub(crate) api_url: String,
    /// The streams, one per endpoint. Their settings override the top-level ones.
    #[serde(default)]
    pub(crate) streams: Vec<StreamConfig>,
    /// The top-level defaults every stream inherits.
    #[serde(flatten)]
    pub(crate) defaults: Common,

    /// How requests authenticate: `no_auth`, `api_key`, `basic`, `bearer_token`, `oauth`, `session_token` or `jwt`.
    #[serde(default)]
    pub(crate) auth_method: Option<String>,
    /// For `api_key`: the header name and value, e.g. `{"X-API-KEY": "secret"}`.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) api_keys: Option<Map<String, Value>>,
    /// For `oauth` (and `jwt`): the client id.
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    /// For `oauth`: the client secret.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) client_secret: Option<String>,
    /// For `basic`, `oauth` with `grant_type: password`, and `session_token`: the user.
    #[serde(default)]
    pub(crate) username: Option<String>,
    /// For `basic`, `oauth` with `grant_type: password`, and `session_token`: the password.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) password: Option<String>,
    /// For `bearer_token`: the token sent as `Authorization: Bearer <token>`.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) bearer_token: Option<String>,
    /// For `oauth` with `grant_type: refresh_token`: the refresh token.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) refresh_token: Option<String>,
    /// For `oauth`: `client_credentials`, `refresh_token` or `password`.
    #[serde(default)]
    pub(crate) grant_type: Option<String>,
    /// For `oauth`: the scopes, space-separated.
    #[serde(default)]
    pub(crate) scope: Option<String>,
    /// For `oauth` and `jwt`: the token endpoint; for `session_token`: the login URL or path.
    #[serde(default)]
    pub(crate) access_token_url: Option<String>,
    /// For `oauth`: the redirect URI sent with the token request.
    #[serde(default)]
    pub(crate) redirect_uri: Option<String>,
    /// For `oauth`: extra form fields for the token request, e.g. `{"resource": "..."}`.
    #[serde(default)]
    pub(crate) oauth_extras: Option<Map<String, Value>>,
    /// For `oauth`: the token lifetime in seconds when the server does not say.
    #[serde(default)]
    pub(crate) oauth_expiration_secs: Option<u64>,
    /// For `session_token`: the JSONPath of the token in the login response (default `$.token`).
    #[serde(default)]
    pub(crate) session_token_path: Option<String>,
    /// For `jwt`: the PEM private key that signs the assertion.
    #[serde(default)]
    #[setting(secret)]
    pub(crate) private_key: Option<String>,

    /// How the next page is found: `default` (= `jsonpath_paginator`), `offset_paginator`, `simple_header_paginator`, `header_link_paginator`, `restapi_header_link_paginator`, `hateoas_paginator`, `single_page_paginator`, `page_number_paginator` or `simple_offset_paginator`.
    #[serde(default)]
    pub(crate) pagination_request_style: Option<String>,
    /// How the next page is asked for: `default` (= `page`), `offset` (= `style1`), `header_link` or `hateoas_body`.
    #[serde(default)]
    pub(crate) pagination_response_style: Option<String>,
    /// The JSONPath of the next-page token in the body (default `$.next_page`).
    #[serde(default)]
    pub(crate) next_page_token_path: Option<String>,
    /// The page size, sent in `pagination_limit_per_page_param`.
    #[serde(default)]
    pub(crate) pagination_page_size: Option<u64>,
    /// The most records (or, for `restapi_header_link_paginator`, pages times page size) to read.
    #[serde(default)]
    pub(crate) pagination_results_limit: Option<u64>,
    /// The query parameter carrying the next page's token, page or offset.
    #[serde(default)]
    pub(crate) pagination_next_page_param: Option<String>,
    /// The query parameter carrying the page size (`limit`, `per_page`, ...).
    #[serde(default)]
    pub(crate) pagination_limit_per_page_param: Option<String>,
    /// For `offset_paginator`: the field of the pagination object holding the total (default `total`).
    #[serde(default)]
    pub(crate) pagination_total_limit_param: Option<String>,
    /// For the offset and page-number paginators: the first page or offset (default 1).
    #[serde(default)]
    pub(crate) pagination_initial_offset: Option<u64>,
    /// Send the parameters in a JSON body instead of the query (not supported; must be false).
    #[serde(default)]
    pub(crate) use_request_body_not_params: bool,

    /// Where the wait before a retry comes from: unset (exponential backoff honouring `Retry-After`), `header` (the `backoff_param` header's seconds) or `message` (the largest number in the body's `message`).
    #[serde(default)]
    pub(crate) backoff_type: Option<String>,
    /// For `backoff_type: header`: the header with the seconds to wait (default `Retry-After`).
    #[serde(default)]
    pub(crate) backoff_param: Option<String>,
    /// Seconds added to every wait read with `backoff_type` (ignored without it, as in tap-rest-api-msdk).
    #[serde(default)]
    pub(crate) backoff_time_extension: Option<u64>,
    /// Adds `_sdc_raw_json`, the record as it came from the API.
    #[serde(default)]
    pub(crate) store_raw_json_message: bool,
    /// Flattens nested objects into `parent_child` fields (default true, as tap-rest-api-msdk does).
    #[serde(default)]
    pub(crate) flatten_records: Option<bool>,

    /// How many partitions (child streams' parents' records) sync at once (default 1).
    #[serde(default)]
    pub(crate) max_concurrency: Option<usize>,
    /// At most this many requests per second, shared by every stream.
    #[serde(default)]
    pub(crate) requests_per_second: Option<u32>,
    /// Rules for error responses: `[{"status": 404, "action": "ignore"}, {"body_contains": "quota", "action": "retry"}]`; actions `retry`, `ignore`, `skip`, `fail`.
    #[serde(default)]
    pub(crate) error_rules: Option<Vec<Value>>,
}

/// Settings a stream can set and otherwise inherits from the top level.
#[derive(Debug, Default, Clone, Deserialize, Schema)]
pub(crate) struct Common {
    /// The path appended to `api_url`; `{placeholders}` are filled from the parent's records.
    #[serde(default)]
    pub(crate) path: Option<String>,
    /// Query parameters (a stream's are merged over the top-level ones).
    #[serde(default)]
    pub(crate) params: Option<Map<String, Value>>,
    /// Headers (a stream's are merged over the top-level ones).
    #[serde(default)]
    pub(crate) headers: Option<Map<String, Value>>,
    /// The JSONPath of the records in a response (default `$[*]`).
    #[serde(default)]
    pub(crate) records_path: Option<String>,
    /// The fields of the primary key.
    #[serde(default)]
    pub(crate) primary_keys: Option<Vec<String>>,
    /// The field that orders records for incremental syncs (an increasing date-time or number).
    #[serde(default)]
    pub(crate) replication_key: Option<String>,
    /// Fields kept whole as JSON strings instead of being flattened.
    #[serde(default)]
    pub(crate) except_keys: Option<Vec<String>>,
    /// How many records the schema is inferred from when no `schema` is given (default 50).
    #[serde(default)]
    pub(crate) num_inference_records: Option<f64>,
    /// The first date-time to sync when there is no bookmark.
    #[serde(default)]
    pub(crate) start_date: Option<String>,
    /// The query parameter that filters on the replication key, e.g. `updated_since`.
    #[serde(default)]
    pub(crate) source_search_field: Option<String>,
    /// The value of `source_search_field`, with `$last_run_date` replaced by the bookmark or `start_date`.
    #[serde(default)]
    pub(crate) source_search_query: Option<String>,
    /// For `simple_offset_paginator`: the JSONPath of the page's records, counted to spot the last page.
    #[serde(default)]
    pub(crate) offset_records_jsonpath: Option<String>,
    /// Pages fetched ahead when the paginator can predict them (default 1: none).
    #[serde(default)]
    pub(crate) prefetch: Option<usize>,
    /// Walks an incremental stream in date windows from the bookmark (or `start_date`) to now.
    #[serde(default)]
    pub(crate) date_window: Option<DateWindow>,
}

/// Date windows: one paginated request per window, its bounds in two query parameters.
#[derive(Debug, Clone, Deserialize, Schema)]
pub(crate) struct DateWindow {
    /// The query parameter of a window's start, e.g. `from`.
    pub(crate) start_param: String,
    /// The query parameter of a window's end, e.g. `to`.
    pub(crate) end_param: String,
    /// A window's length in days.
    #[schema(minimum = 1)]
    pub(crate) days: u32,
    /// Hours before the bookmark the first window starts, for late records (default 0).
    #[serde(default)]
    pub(crate) lookback_hours: Option<u32>,
    /// How bounds are written (`strftime` codes, UTC; default `%Y-%m-%dT%H:%M:%SZ`).
    #[serde(default)]
    pub(crate) format: Option<String>,
}

/// One stream.
#[derive(Debug, Clone, Deserialize, Schema)]
pub(crate) struct StreamConfig {
    /// The stream's name.
    pub(crate) name: String,
    /// The JSON Schema of the records, inline or the path of a `.json` file; inferred when absent.
    #[serde(default)]
    pub(crate) schema: Option<Value>,
    /// The base URL of this stream, when it is not the top-level `api_url`.
    #[serde(default)]
    pub(crate) api_url: Option<String>,
    /// The stream whose records fill this stream's path placeholders.
    #[serde(default)]
    pub(crate) parent_stream: Option<String>,
    /// The parent's fields carried into this stream's records (default: the path's placeholders).
    #[serde(default)]
    pub(crate) parent_fields: Option<Vec<String>>,
    /// The stream's own settings, over the top-level defaults.
    #[serde(flatten)]
    pub(crate) common: Common,
}
