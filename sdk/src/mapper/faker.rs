//! The `fake` object of map expressions: fake data from the `fake` crate, driven by one
//! seedable generator so that `faker_config.seed` makes a run reproducible and
//! `fake.seed_instance(x)` gives the same value for the same `x`.
//!
//! Values follow Faker's shapes (a 12–16 digit card number, `name@example.org`), not its
//! exact output: the same seed gives the same values as an earlier run of this SDK, not as
//! Python's Faker.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use chrono::{NaiveDate, TimeDelta};
use fake::Fake;
use fake::faker::phone_number::en as phone;
use fake::faker::{address::en as address, company::en as company, creditcard::en as card};
use fake::faker::{currency::en as currency, internet::en as internet, job::en as job};
use fake::faker::{lorem::en as lorem, name::en as name};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

use super::expr::runtime::value::{Dt, EvalResult, Val, fail};
use crate::time::iso;

macro_rules! providers {
    ($($variant:ident = $name:literal,)*) => {
        /// A Faker method callable as `fake.<name>()`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Provider { $($variant,)* }

        impl Provider {
            /// The provider called `name`.
            pub(crate) fn from_name(name: &str) -> Option<Provider> {
                match name { $($name => Some(Provider::$variant),)* _ => None }
            }

            /// Every supported name, for messages.
            pub(crate) fn names() -> String {
                [$($name),*].join(", ")
            }
        }
    };
}

providers! {
    SeedInstance = "seed_instance", Name = "name", FirstName = "first_name",
    LastName = "last_name", Email = "email", SafeEmail = "safe_email", FreeEmail = "free_email",
    UserName = "user_name", Address = "address", StreetAddress = "street_address", City = "city",
    State = "state", Country = "country", CountryCode = "country_code", Postcode = "postcode",
    Zipcode = "zipcode", PhoneNumber = "phone_number", Company = "company", Job = "job",
    CatchPhrase = "catch_phrase", Uuid4 = "uuid4", Word = "word", Sentence = "sentence",
    Paragraph = "paragraph", Text = "text", Ipv4 = "ipv4", Ipv6 = "ipv6",
    MacAddress = "mac_address", DomainName = "domain_name", Url = "url", Date = "date",
    DateTime = "date_time", Year = "year", Iso8601 = "iso8601",
    CreditCardNumber = "credit_card_number", Boolean = "boolean", RandomInt = "random_int",
    RandomDigit = "random_digit", CurrencyCode = "currency_code",
}

/// The generator behind `fake`.
#[derive(Debug)]
pub(crate) struct Faker {
    rng: StdRng,
}

/// A 64-bit seed from any text (SHA-256, so it is the same on every platform and run).
pub(crate) fn seed_from(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

impl Faker {
    /// A generator seeded with `seed`, or from the process's random state.
    pub(crate) fn new(seed: Option<u64>) -> Faker {
        let seed = seed.unwrap_or_else(|| RandomState::new().hash_one(std::process::id()));
        Faker {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A float in `[0, 1)`.
    pub(crate) fn random_f64(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// Calls a provider.
    pub(crate) fn call(
        &mut self,
        provider: Provider,
        args: &[Val<'_>],
    ) -> EvalResult<Val<'static>> {
        use Provider as P;
        let max_args = match provider {
            P::SeedInstance | P::Sentence | P::Paragraph => 1,
            P::RandomInt => 2,
            _ => 0,
        };
        if args.len() > max_args {
            return fail(format!(
                "TypeError: fake provider takes at most {max_args} arguments ({} given)",
                args.len()
            ));
        }
        let rng = &mut self.rng;
        let s = |v: String| Val::str(v);
        Ok(match provider {
            P::SeedInstance => {
                let seed = args
                    .first()
                    .map_or_else(|| rng.random::<u64>(), |v| seed_from(&v.py_str()));
                self.rng = StdRng::seed_from_u64(seed);
                Val::None
            }
            P::Name => s(name::Name().fake_with_rng(rng)),
            P::FirstName => s(name::FirstName().fake_with_rng(rng)),
            P::LastName => s(name::LastName().fake_with_rng(rng)),
            P::Email | P::SafeEmail => s(internet::SafeEmail().fake_with_rng(rng)),
            P::FreeEmail => s(internet::FreeEmail().fake_with_rng(rng)),
            P::UserName => s(internet::Username().fake_with_rng(rng)),
            P::Address => {
                let street = street(rng);
                let city: String = address::CityName().fake_with_rng(rng);
                let state: String = address::StateAbbr().fake_with_rng(rng);
                let zip: String = address::ZipCode().fake_with_rng(rng);
                s(format!("{street}\n{city}, {state} {zip}"))
            }
            P::StreetAddress => s(street(rng)),
            P::City => s(address::CityName().fake_with_rng(rng)),
            P::State => s(address::StateName().fake_with_rng(rng)),
            P::Country => s(address::CountryName().fake_with_rng(rng)),
            P::CountryCode => s(address::CountryCode().fake_with_rng(rng)),
            P::Postcode | P::Zipcode => s(address::ZipCode().fake_with_rng(rng)),
            P::PhoneNumber => s(phone::PhoneNumber().fake_with_rng(rng)),
            P::Company => s(company::CompanyName().fake_with_rng(rng)),
            P::Job => s(job::Title().fake_with_rng(rng)),
            P::CatchPhrase => s(company::CatchPhrase().fake_with_rng(rng)),
            P::Uuid4 => {
                let mut b: [u8; 16] = rng.random();
                b[6] = (b[6] & 0x0f) | 0x40;
                b[8] = (b[8] & 0x3f) | 0x80;
                let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                s(format!(
                    "{}-{}-{}-{}-{}",
                    h[..4].concat(),
                    h[4..6].concat(),
                    h[6..8].concat(),
                    h[8..10].concat(),
                    h[10..].concat()
                ))
            }
            P::Word => s(lorem::Word().fake_with_rng(rng)),
            P::Sentence => {
                let words = count_arg(args, 6)?;
                let text: String = lorem::Sentence(words..words + 4).fake_with_rng(rng);
                s(text)
            }
            P::Paragraph | P::Text => {
                let sentences = count_arg(args, 3)?;
                s(lorem::Paragraph(sentences..sentences + 3).fake_with_rng(rng))
            }
            P::Ipv4 => s(internet::IPv4().fake_with_rng(rng)),
            P::Ipv6 => s(internet::IPv6().fake_with_rng(rng)),
            P::MacAddress => s(internet::MACAddress().fake_with_rng(rng)),
            P::DomainName => s(domain(rng)),
            P::Url => s(format!("https://www.{}/", domain(rng))),
            P::Date => s(iso::date_isoformat(&date(rng))),
            P::DateTime => Val::DateTime(Dt::Naive(datetime(rng))),
            P::Iso8601 => s(iso::isoformat(&Dt::Naive(datetime(rng)), "T")),
            P::Year => s(date(rng).format("%Y").to_string()),
            P::CreditCardNumber => s(card::CreditCardNumber().fake_with_rng(rng)),
            P::Boolean => Val::Bool(rng.random_bool(0.5)),
            P::RandomInt => {
                let low = args.first().map_or(Ok(0), |v| v.as_int("min"))?;
                let high = args.get(1).map_or(Ok(9999), |v| v.as_int("max"))?;
                if high < low {
                    return fail("ValueError: empty range for random_int");
                }
                Val::Int(rng.random_range(low..=high))
            }
            P::RandomDigit => Val::Int(rng.random_range(0..=9)),
            P::CurrencyCode => s(currency::CurrencyCode().fake_with_rng(rng)),
        })
    }
}

fn count_arg(args: &[Val<'_>], default: usize) -> EvalResult<usize> {
    match args.first() {
        None => Ok(default),
        Some(v) => Ok(usize::try_from(v.as_int("count")?)
            .unwrap_or(1)
            .clamp(1, 100)),
    }
}

fn street(rng: &mut StdRng) -> String {
    let number: String = address::BuildingNumber().fake_with_rng(rng);
    let street: String = address::StreetName().fake_with_rng(rng);
    format!("{number} {street}")
}

fn domain(rng: &mut StdRng) -> String {
    let word: String = lorem::Word().fake_with_rng(rng);
    let suffix: String = internet::DomainSuffix().fake_with_rng(rng);
    format!("{}.{suffix}", word.to_lowercase())
}

fn date(rng: &mut StdRng) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch + TimeDelta::days(rng.random_range(0..20_000))
}

fn datetime(rng: &mut StdRng) -> chrono::NaiveDateTime {
    date(rng).and_hms_opt(0, 0, 0).unwrap_or_default()
        + TimeDelta::seconds(rng.random_range(0..86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(faker: &mut Faker, p: Provider, args: &[Val<'_>]) -> String {
        faker.call(p, args).unwrap().py_str()
    }

    #[test]
    fn same_seed_same_values() {
        let (mut a, mut b) = (Faker::new(Some(123_456)), Faker::new(Some(123_456)));
        for p in [
            Provider::CreditCardNumber,
            Provider::Email,
            Provider::Name,
            Provider::Uuid4,
        ] {
            assert_eq!(text(&mut a, p, &[]), text(&mut b, p, &[]));
        }
    }

    #[test]
    fn seed_instance_is_deterministic_per_value() {
        let mut f = Faker::new(None);
        let mut email_for = |x: &str| {
            f.call(Provider::SeedInstance, &[Val::str(x)]).unwrap();
            text(&mut f, Provider::Email, &[])
        };
        let first = email_for("alice@example.com");
        let _ = email_for("bob@example.com");
        assert_eq!(email_for("alice@example.com"), first);
        assert!(first.contains("@example."));
    }

    #[test]
    fn shapes_look_right() {
        let mut f = Faker::new(Some(1));
        let card = text(&mut f, Provider::CreditCardNumber, &[]);
        assert!(
            card.len() >= 13 && card.chars().all(|c| c.is_ascii_digit()),
            "{card}"
        );
        let uuid = text(&mut f, Provider::Uuid4, &[]);
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        let n = f
            .call(Provider::RandomInt, &[Val::Int(5), Val::Int(7)])
            .unwrap();
        assert!(matches!(n, Val::Int(5..=7)));
        assert!(Provider::from_name("nope").is_none());
    }
}
