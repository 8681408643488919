use serde::Serialize;
use singer_sdk::Schema;

/// Enums have no top-level fields.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["id"])]
enum Event {
    Click {
        #[schema(replication_key)]
        at: i64,
    },
}

/// A newtype is a value.
#[derive(Schema, Serialize)]
struct Id(#[schema(key)] i64);

/// A transparent struct is its field.
#[derive(Schema, Serialize)]
#[serde(transparent)]
#[schema(replication_key = "value")]
struct Wrapper {
    #[schema(key)]
    value: i64,
}

/// An `into` struct is serialized as another type.
#[derive(Schema, Serialize, Clone)]
#[serde(into = "Id")]
struct Proxy {
    #[schema(key)]
    id: i64,
}

impl From<Proxy> for Id {
    fn from(proxy: Proxy) -> Self {
        Self(proxy.id)
    }
}

fn main() {}
