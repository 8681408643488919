"""A minimal synthetic tap on the Python singer-sdk public API: the same 13-field records as
the Rust `tap-synthetic`, for side-by-side benchmarks. Run: python tap_synthetic.py --config c.json
"""
from singer_sdk import Stream, Tap
from singer_sdk import typing as th

NAMES = ['Ada "the first" Lovelace', "Alan Turing", "Grace\tHopper", "Zoë Ñandú\\"]


class Rows(Stream):
    name = "rows"
    primary_keys = ["id"]
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType, required=True),
        th.Property("account", th.StringType),
        th.Property("name", th.StringType),
        th.Property("email", th.StringType),
        th.Property("note", th.StringType),
        th.Property("active", th.BooleanType),
        th.Property("verified", th.BooleanType),
        th.Property("score", th.NumberType),
        th.Property("balance", th.NumberType),
        th.Property("visits", th.IntegerType),
        th.Property("updated_at", th.DateTimeType),
        th.Property(
            "address",
            th.ObjectType(
                th.Property("street", th.StringType),
                th.Property("city", th.StringType),
                th.Property("zip", th.StringType),
            ),
        ),
        th.Property("tags", th.ArrayType(th.StringType)),
    ).to_dict()

    def get_records(self, context):
        for i in range(int(self.config.get("records", 1000000))):
            day = i % 28 + 1
            yield {
                "id": i,
                "account": "acct-%06x" % (i * 7919 % 1000003),
                "name": NAMES[i % 4],
                "email": None if i % 10 == 0 else f"user{i}@example.com",
                "note": None,
                "active": i % 2 == 0,
                "verified": i % 3 == 0,
                "score": i * 0.5,
                "balance": 1234.5678 + i,
                "visits": i % 1000,
                "updated_at": "2024-02-%02dT%02d:%02d:%02d+00:00" % (day, i % 24, i % 60, (i // 60) % 60),
                "address": {"street": "1 Main St.\nApt 2", "city": "Springfield", "zip": "%05d" % (i % 100000)},
                "tags": ["alpha", "beta"],
            }


class TapSynthetic(Tap):
    name = "tap-synthetic-py"
    config_jsonschema = th.PropertiesList(th.Property("records", th.IntegerType)).to_dict()

    def discover_streams(self):
        return [Rows(self)]


if __name__ == "__main__":
    TapSynthetic.cli()
