"""The issues stream of tap-github written on the Python singer-sdk's public RESTStream API,
for the REST benchmark: one partition per repository, `Link` pagination, `since` from the
bookmark, bearer auth. Run: python tap_github_py.py --config c.json [--catalog ...]
"""
from urllib.parse import parse_qsl

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.pagination import HeaderLinkPaginator
from singer_sdk.streams import RESTStream

USER = th.ObjectType(th.Property("id", th.IntegerType), th.Property("login", th.StringType))


class Issues(RESTStream):
    name = "issues"
    path = "/repos/{owner}/{repo}/issues"
    primary_keys = ["id"]
    replication_key = "updated_at"
    is_sorted = True
    records_jsonpath = "$[*]"
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType),
        th.Property("number", th.IntegerType),
        th.Property("title", th.StringType),
        th.Property("state", th.StringType),
        th.Property("user", USER),
        th.Property("body", th.StringType),
        th.Property("labels", th.ArrayType(th.ObjectType(th.Property("id", th.IntegerType), th.Property("name", th.StringType)))),
        th.Property("comments", th.IntegerType),
        th.Property("pull_request", th.ObjectType(th.Property("url", th.StringType))),
        th.Property("created_at", th.DateTimeType),
        th.Property("updated_at", th.DateTimeType),
        th.Property("closed_at", th.DateTimeType),
        th.Property("owner", th.StringType),
        th.Property("repo", th.StringType),
    ).to_dict()

    @property
    def url_base(self):
        return self.config["api_url"]

    @property
    def partitions(self):
        return [dict(zip(("owner", "repo"), r.split("/"))) for r in self.config["repositories"]]

    @property
    def authenticator(self):
        return BearerTokenAuthenticator(self, token=self.config["auth_token"])

    def get_new_paginator(self):
        return HeaderLinkPaginator()

    def get_url_params(self, context, next_page_token):
        if next_page_token:
            return dict(parse_qsl(next_page_token.query))  # the next link carries the whole query
        params = {"per_page": 100, "state": "all", "sort": "updated", "direction": "asc"}
        start = self.get_starting_replication_key_value(context)
        if start:
            params["since"] = start
        return params


class TapGithubPy(Tap):
    name = "tap-github-py"
    config_jsonschema = th.PropertiesList(
        th.Property("repositories", th.ArrayType(th.StringType), required=True),
        th.Property("auth_token", th.StringType, secret=True),
        th.Property("api_url", th.StringType, default="https://api.github.com"),
        th.Property("start_date", th.DateTimeType),
    ).to_dict()

    def discover_streams(self):
        return [Issues(self)]


if __name__ == "__main__":
    TapGithubPy.cli()
