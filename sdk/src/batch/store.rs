//! Where batch files live: local paths and `file://` URLs on the local file system, other URLs
//! (`s3://bucket/key`, `gs://bucket/key`, `az://container/key` and the other Azure forms,
//! `http(s)://` WebDAV servers, `memory://`) in an object store built with the `object_store`
//! crate.
//!
//! Credentials, region and endpoint come from each store's standard environment (for S3
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`; for Google Cloud Storage `GOOGLE_SERVICE_ACCOUNT` or
//! `GOOGLE_APPLICATION_CREDENTIALS`; for Azure `AZURE_STORAGE_ACCOUNT_NAME`,
//! `AZURE_STORAGE_ACCOUNT_KEY` and the other `AZURE_*`), and options given in
//! `batch_config.storage.params` override them. No option value ever appears in an error or a
//! log line.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig};
use url::Url;

use crate::error::{Error, Result};

/// A batch file's place: on the local file system, or in an object store.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    /// A local file.
    Local(PathBuf),
    /// An object: the store, the object's path in it, its URL, and the part of the URL
    /// before the object path (such as `s3://bucket` or `https://account.blob.core.windows.net/container`).
    Remote {
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        url: String,
        prefix: String,
    },
}

/// Builds object stores for URLs, one per scheme and bucket, with the options given.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    options: Vec<(String, String)>,
    built: HashMap<String, Arc<dyn ObjectStore>>,
}

impl Stores {
    /// Stores that apply `options` (object_store option names) over the environment's.
    pub(crate) fn new(options: Vec<(String, String)>) -> Self {
        Stores {
            options,
            built: HashMap::new(),
        }
    }

    /// The place `location` names: a path, a `file://` URL, or an object store URL.
    ///
    /// # Errors
    /// A URL that does not parse, a scheme no store is built in for, or store options that
    /// are not valid.
    pub(crate) fn place(&mut self, location: &str) -> Result<Place> {
        if !location.contains("://") {
            let path = std::path::absolute(location).map_err(|e| {
                Error::context(format!("cannot resolve batch path `{location}`"), e)
            })?;
            return Ok(Place::Local(path));
        }
        let url = Url::parse(location).map_err(|e| {
            Error::context(
                format!("batch location `{location}` is not a valid URL; use a path, a file:// or an s3:// URL"),
                e,
            )
        })?;
        if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|()| {
                Error::custom(format!(
                    "batch location `{location}` is not a local file URL; write it as file:///absolute/path"
                ))
            })?;
            return Ok(Place::Local(path));
        }
        let key = format!("{}://{}", url.scheme(), url.authority());
        let store = match self.built.get(&key) {
            Some(store) => Arc::clone(store),
            None => {
                let store = self.build(&url)?;
                self.built.insert(key, Arc::clone(&store));
                store
            }
        };
        let path = match ObjectStoreScheme::parse(&url) {
            Ok((_, path)) => path,
            Err(_) => ObjectPath::from_url_path(url.path()).map_err(|e| {
                Error::context(
                    format!("batch location `{location}` has an invalid path"),
                    e,
                )
            })?,
        };
        let mut url = url;
        url.set_query(None);
        let prefix = url_prefix(&url, &path);
        Ok(Place::Remote {
            store,
            path,
            url: url.to_string(),
            prefix,
        })
    }

    fn build(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let shown = format!("{}://{}", url.scheme(), url.authority());
        let scheme = ObjectStoreScheme::parse(url).map(|(scheme, _)| scheme);
        match scheme {
            Ok(ObjectStoreScheme::AmazonS3) => {
                self.configured(AmazonS3Builder::from_env(), url, &shown)
            }
            Ok(ObjectStoreScheme::GoogleCloudStorage) => {
                self.configured(GoogleCloudStorageBuilder::from_env(), url, &shown)
            }
            Ok(ObjectStoreScheme::MicrosoftAzure) => {
                self.configured(MicrosoftAzureBuilder::from_env(), url, &shown)
            }
            _ => {
                let (store, _) =
                    object_store::parse_url_opts(url, self.options.iter().cloned()).map_err(
                        |e| {
                            Error::context(
                                format!("cannot open the object store for `{shown}`; supported are local paths, file://, s3://, gs://, az:// (abfs://, azure://) and http(s):// URLs"),
                                e,
                            )
                        },
                    )?;
                Ok(Arc::from(store))
            }
        }
    }

    /// A cloud store from its builder: the environment's settings, then short timeouts and
    /// few retries, then the options given, which must all be options of that store.
    fn configured<B: CloudBuilder>(
        &self,
        builder: B,
        url: &Url,
        shown: &str,
    ) -> Result<Arc<dyn ObjectStore>> {
        // Timeouts through the config keys: `with_client_options` would drop the
        // environment's client settings (such as AWS_ALLOW_HTTP).
        let mut builder = builder
            .url(url.as_str())
            .retry(retry())
            .client(ClientConfigKey::ConnectTimeout, "5s")
            .client(ClientConfigKey::Timeout, "120s");
        for (key, value) in &self.options {
            builder = builder.option(key, value).ok_or_else(|| {
                Error::custom(format!(
                    "batch_config.storage.params has an unknown {} option `{key}`; use e.g. {}",
                    B::NAME,
                    B::EXAMPLES
                ))
            })?;
        }
        builder.finish().map_err(|e| {
            Error::context(
                format!(
                    "cannot set up the object store for `{shown}`; check its {} environment variables and batch_config.storage.params",
                    B::ENVIRONMENT
                ),
                e,
            )
        })
    }
}

/// What [`Stores`] needs of an `object_store` cloud builder.
trait CloudBuilder: Sized {
    /// The store's name in errors.
    const NAME: &'static str;
    /// Some of its option names, for errors.
    const EXAMPLES: &'static str;
    /// Its environment variables, for errors.
    const ENVIRONMENT: &'static str;
    fn url(self, url: &str) -> Self;
    fn retry(self, retry: RetryConfig) -> Self;
    fn client(self, key: ClientConfigKey, value: &str) -> Self;
    /// The builder with option `key` set, or `None` when the store has no such option.
    fn option(self, key: &str, value: &str) -> Option<Self>;
    fn finish(self) -> object_store::Result<Arc<dyn ObjectStore>>;
}

/// [`CloudBuilder`] for a builder type, its config key type and its texts.
macro_rules! cloud_builder {
    ($builder:ty, $key:ident, $name:literal, $examples:literal, $environment:literal) => {
        impl CloudBuilder for $builder {
            const NAME: &'static str = $name;
            const EXAMPLES: &'static str = $examples;
            const ENVIRONMENT: &'static str = $environment;
            fn url(self, url: &str) -> Self {
                self.with_url(url)
            }
            fn retry(self, retry: RetryConfig) -> Self {
                self.with_retry(retry)
            }
            fn client(self, key: ClientConfigKey, value: &str) -> Self {
                self.with_config($key::Client(key), value)
            }
            fn option(self, key: &str, value: &str) -> Option<Self> {
                $key::from_str(key)
                    .ok()
                    .map(|key| self.with_config(key, value))
            }
            fn finish(self) -> object_store::Result<Arc<dyn ObjectStore>> {
                Ok(Arc::new(self.build()?))
            }
        }
    };
}

cloud_builder!(
    AmazonS3Builder,
    AmazonS3ConfigKey,
    "S3",
    "aws_access_key_id, aws_secret_access_key, aws_region, aws_endpoint, aws_allow_http",
    "AWS_*"
);
cloud_builder!(
    GoogleCloudStorageBuilder,
    GoogleConfigKey,
    "Google Cloud Storage",
    "google_service_account, google_service_account_key, google_application_credentials",
    "GOOGLE_*"
);
cloud_builder!(
    MicrosoftAzureBuilder,
    AzureConfigKey,
    "Azure",
    "azure_storage_account_name, azure_storage_account_key, azure_storage_sas_key, azure_storage_use_emulator",
    "AZURE_*"
);

/// The part of `url` before the object path `path`: its scheme, authority and the leading path
/// segments that name a bucket or container rather than the object.
fn url_prefix(url: &Url, path: &ObjectPath) -> String {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let kept = segments.len().saturating_sub(path.parts().count());
    let mut prefix = format!("{}://{}", url.scheme(), url.authority());
    for segment in &segments[..kept] {
        prefix.push('/');
        prefix.push_str(segment);
    }
    prefix
}

/// Few, quick retries: an unreachable store fails within seconds, not minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    }
}

impl Place {
    /// The place as a manifest entry: a `file://` URL or the object's URL.
    pub(crate) fn url(&self) -> String {
        match self {
            Place::Local(path) => Url::from_file_path(path)
                .map_or_else(|()| path.display().to_string(), |u| u.to_string()),
            Place::Remote { url, .. } => url.clone(),
        }
    }

    /// A file `name` inside this place (a directory or a prefix).
    pub(crate) fn join(&self, name: &str) -> Result<Place> {
        match self {
            Place::Local(dir) => Ok(Place::Local(dir.join(name))),
            Place::Remote {
                store,
                path,
                prefix,
                ..
            } => {
                let joined = if path.as_ref().is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}/{name}")
                };
                let path = ObjectPath::parse(&joined).map_err(|e| {
                    Error::context(format!("`{name}` is not a valid object name"), e)
                })?;
                Ok(Place::Remote {
                    store: Arc::clone(store),
                    url: format!("{prefix}/{path}"),
                    path,
                    prefix: prefix.clone(),
                })
            }
        }
    }

    /// Reads the whole object (remote places only; local files are read as streams).
    pub(crate) async fn fetch(&self) -> Result<Bytes> {
        match self {
            Place::Local(path) => tokio::fs::read(path)
                .await
                .map(Bytes::from)
                .map_err(|e| Error::context(format!("cannot read `{}`", path.display()), e)),
            Place::Remote {
                store, path, url, ..
            } => {
                let got = store
                    .get(path)
                    .await
                    .map_err(|e| remote_error("cannot read", url, e))?;
                got.bytes()
                    .await
                    .map_err(|e| remote_error("cannot read", url, e))
            }
        }
    }

    /// Writes `data` as the whole file, creating directories as needed.
    pub(crate) async fn store(&self, data: Bytes) -> Result<()> {
        match self {
            Place::Local(path) => {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(|e| {
                        Error::context(
                            format!("cannot create batch directory `{}`", dir.display()),
                            e,
                        )
                    })?;
                }
                tokio::fs::write(path, data).await.map_err(|e| {
                    Error::context(format!("cannot write batch file `{}`", path.display()), e)
                })
            }
            Place::Remote {
                store, path, url, ..
            } => store
                .put(path, data.into())
                .await
                .map(|_| ())
                .map_err(|e| remote_error("cannot write", url, e)),
        }
    }
}

fn remote_error(what: &str, url: &str, error: object_store::Error) -> Error {
    let hint = match &error {
        object_store::Error::NotFound { .. } => "; the object does not exist",
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            "; check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or batch_config.storage.params)"
        }
        _ => {
            "; check that the store is reachable (AWS_ENDPOINT_URL, AWS_ALLOW_HTTP) and the credentials are right"
        }
    };
    Error::context(format!("{what} batch object `{url}`{hint}"), error)
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own, so that it
/// works from synchronous code whether or not a runtime is already running on this thread.
pub(crate) fn block_on<F>(future: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
                    .map_err(|e| Error::context("cannot start the object store runtime", e))
            })
            .join()
            .map_err(|_| Error::custom("the object store thread panicked"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_are_local() {
        let mut stores = Stores::default();
        let Place::Local(path) = stores.place("file:///tmp/a%20b/x.json").unwrap() else {
            panic!("not local");
        };
        assert_eq!(path, PathBuf::from("/tmp/a b/x.json"));
        assert!(matches!(stores.place("rel/x.json").unwrap(), Place::Local(p) if p.is_absolute()));
        assert_eq!(
            Place::Local("/tmp/a b".into())
                .join("x.json")
                .unwrap()
                .url(),
            "file:///tmp/a%20b/x.json"
        );
    }

    #[test]
    fn object_urls_join_and_print_back() {
        let mut stores = Stores::new(vec![
            ("aws_region".into(), "us-east-1".into()),
            ("aws_access_key_id".into(), "k".into()),
            ("aws_secret_access_key".into(), "s".into()),
        ]);
        let root = stores.place("s3://bucket/some/prefix").unwrap();
        assert_eq!(
            root.join("users-1.json.gz").unwrap().url(),
            "s3://bucket/some/prefix/users-1.json.gz"
        );
        let bare = stores.place("s3://bucket").unwrap();
        assert_eq!(
            bare.join("a/b.parquet").unwrap().url(),
            "s3://bucket/a/b.parquet"
        );
    }

    #[test]
    fn unknown_options_and_schemes_fail_clearly() {
        let mut stores = Stores::new(vec![("aws_secret_acces_key".into(), "hush".into())]);
        let err = stores.place("s3://bucket/x").unwrap_err().to_string();
        assert!(
            err.contains("aws_secret_acces_key") && !err.contains("hush"),
            "{err}"
        );
        let err = Stores::default()
            .place("gopher://x/y")
            .unwrap_err()
            .to_string();
        assert!(err.contains("supported are"), "{err}");
        let mut stores = Stores::new(vec![("google_service_acount".into(), "hush".into())]);
        let err = stores.place("gs://bucket/x").unwrap_err().to_string();
        assert!(
            err.contains("Google Cloud Storage option `google_service_acount`")
                && !err.contains("hush"),
            "{err}"
        );
    }

    #[test]
    fn google_and_azure_urls_name_their_objects() {
        // No credentials in the environment: Google's store falls back to the instance
        // metadata service, asked only when an object is read or written.
        let gcs = Stores::default().place("gs://bucket/batches").unwrap();
        assert_eq!(
            gcs.join("users-1.json.gz").unwrap().url(),
            "gs://bucket/batches/users-1.json.gz"
        );
        let mut stores = Stores::new(vec![
            ("azure_storage_account_name".into(), "account".into()),
            ("azure_storage_account_key".into(), "a2V5".into()),
        ]);
        let short = stores.place("az://container/batches").unwrap();
        assert_eq!(
            short.join("users-1.parquet").unwrap().url(),
            "az://container/batches/users-1.parquet"
        );
        let long = stores
            .place("https://account.blob.core.windows.net/container/batches")
            .unwrap();
        assert_eq!(
            long.join("users-1.parquet").unwrap().url(),
            "https://account.blob.core.windows.net/container/batches/users-1.parquet"
        );
        let Place::Remote { path, .. } = long.join("users-1.parquet").unwrap() else {
            panic!("not remote");
        };
        assert_eq!(path.as_ref(), "batches/users-1.parquet");
    }
}
