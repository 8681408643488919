{%- if cookiecutter.stream_type in ["REST", "GraphQL"] -%}
//! The HTTP client: base URL, user agent{% if cookiecutter.auth_method != "Custom or N/A" %} and authentication{% endif %} from the settings, with the
//! SDK's retries, rate limits and METRIC lines.

{% if cookiecutter.auth_method == "API Key" -%}
use singer_sdk::rest::{ApiKey{% if cookiecutter.stream_type == "GraphQL" %}, ErrorRules{% endif %}, RestClient};
{%- elif cookiecutter.auth_method == "Bearer Token" -%}
use singer_sdk::rest::{Bearer{% if cookiecutter.stream_type == "GraphQL" %}, ErrorRules{% endif %}, RestClient};
{%- elif cookiecutter.auth_method == "Basic Auth" -%}
use singer_sdk::rest::{Basic{% if cookiecutter.stream_type == "GraphQL" %}, ErrorRules{% endif %}, RestClient};
{%- elif cookiecutter.auth_method == "OAuth2" -%}
use singer_sdk::rest::{{ "{" }}{% if cookiecutter.stream_type == "GraphQL" %}ErrorRules, {% endif %}Grant, OAuth2, RestClient};
{%- elif cookiecutter.auth_method == "JWT" -%}
use singer_sdk::rest::{{ "{" }}{% if cookiecutter.stream_type == "GraphQL" %}ErrorRules, {% endif %}Grant, JwtAssertion, OAuth2, RestClient};
{%- elif cookiecutter.stream_type == "GraphQL" -%}
use singer_sdk::rest::{ErrorRules, RestClient};
{%- else -%}
use singer_sdk::rest::RestClient;
{%- endif %}
use singer_sdk::{Error, Result};

use crate::config::Config;

/// The client every stream shares.
pub(crate) fn build(config: &Config) -> Result<RestClient> {
    RestClient::builder(&config.api_url)
        .user_agent(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
{%- if cookiecutter.auth_method == "API Key" %}
        .auth(ApiKey::header("X-API-Key", config.api_key.as_str()).setting("api_key"))
{%- elif cookiecutter.auth_method == "Bearer Token" %}
        .auth(Bearer::new(config.auth_token.as_str()))
{%- elif cookiecutter.auth_method == "Basic Auth" %}
        .auth(Basic::new(&config.username, config.password.as_str()))
{%- elif cookiecutter.auth_method == "OAuth2" %}
        .auth(
            OAuth2::new(config.token_url(), Grant::ClientCredentials)
                .client(&config.client_id, config.client_secret.as_str())
                .setting("client_secret"),
        )
{%- elif cookiecutter.auth_method == "JWT" %}
        .auth(
            OAuth2::new(
                config.token_url(),
                Grant::JwtBearer(Box::new(
                    JwtAssertion::new(&config.client_id, config.private_key.as_str())
                        .audience(config.token_url()),
                )),
            )
            .setting("private_key"),
        )
{%- endif %}
{%- if cookiecutter.stream_type == "GraphQL" %}
        .rules(ErrorRules::default().graphql())
{%- endif %}
        .build()
        .map_err(|e| Error::context("cannot set up the HTTP client; check `api_url`", e))
}
{% endif -%}
