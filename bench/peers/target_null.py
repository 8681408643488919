"""A minimal target on the Python singer-sdk public API that validates every record and
writes nothing: the floor of any singer-sdk target. Run: python target_null.py --config c.json
"""
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink


class NullSink(BatchSink):
    def process_batch(self, context):
        pass


class TargetNull(Target):
    name = "target-null-py"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = NullSink


if __name__ == "__main__":
    TargetNull.cli()
