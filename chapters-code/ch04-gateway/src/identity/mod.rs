//! The **identity** service: who are you, and a token that proves it.
//!
//! Users sign up with a password, stored only as an Argon2id hash. A
//! login answers with a short-lived JWT signed with an Ed25519 key; the
//! public key is served as a JWKS, so the gateway can verify tokens
//! without calling identity for every request.

pub mod http;
pub mod model;
pub mod passwords;
pub mod store;
pub mod throttle;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::server;
use ch03_registry::services::{self as chapter3, RegistryFlags};

use self::store::UserStore;
use self::throttle::LoginThrottle;
use self::tokens::Signer;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "IDENTITY_LISTEN", default_value = "127.0.0.1:8001")]
    pub listen: SocketAddr,

    /// The identity service's own database; created and migrated on start.
    #[arg(
        long,
        env = "IDENTITY_DATABASE_URL",
        default_value = "sqlite://data/identity.sqlite"
    )]
    pub database_url: String,

    /// Minutes an access token stays valid.
    #[arg(long, env = "IDENTITY_TOKEN_TTL_MINUTES", default_value_t = 15)]
    pub token_ttl_minutes: u64,

    /// The password of the seeded `demo` user (created on first start).
    #[arg(
        long,
        env = "IDENTITY_DEMO_PASSWORD",
        default_value = "bookshop-demo",
        hide_env_values = true
    )]
    pub demo_password: String,

    /// A PEM file with the Ed25519 key to sign with (PKCS#8, as `openssl
    /// genpkey -algorithm ed25519` writes it). Without it, identity makes a
    /// fresh key on every start: fine for one process, wrong for replicas.
    #[arg(long, env = "IDENTITY_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,
}

/// The key from `--signing-key-file`, or a fresh one.
fn signer(config: &Config) -> anyhow::Result<Signer> {
    let ttl = Duration::from_secs(config.token_ttl_minutes * 60);
    let Some(path) = &config.signing_key_file else {
        return Ok(Signer::generate(ttl)?);
    };
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the signing key {}", path.display()))?;
    Signer::from_pem(&pem, ttl).with_context(|| {
        format!(
            "{} is not an Ed25519 private key in PEM (PKCS#8)",
            path.display()
        )
    })
}

/// Failed logins allowed per username before a lock-out, and its length.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct App {
    state: http::AppState,
}

impl App {
    /// Opens the database, seeds the demo user, and loads or makes a signing
    /// key.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let store = UserStore::open(&config.database_url)
            .await
            .with_context(|| {
                format!("cannot open the identity database {}", config.database_url)
            })?;
        let demo_password = config.demo_password.clone();
        let demo_hash =
            tokio::task::spawn_blocking(move || passwords::hash(&demo_password)).await??;
        if store.create("demo", &demo_hash).await?.is_some() {
            tracing::info!("created the demo user `demo`");
        }
        let decoy =
            tokio::task::spawn_blocking(|| passwords::hash("decoy password, never used")).await??;
        let signer = signer(config)?;
        Ok(Self {
            state: http::AppState {
                store,
                signer,
                throttle: Arc::new(LoginThrottle::new(MAX_FAILED_LOGINS, LOCKOUT)),
                decoy_hash: Arc::from(decoy),
            },
        })
    }

    /// The key this instance signs with.
    pub fn signer(&self) -> &Signer {
        &self.state.signer
    }

    pub fn into_router(self) -> Router {
        self.into_router_with(Router::new())
    }

    /// Identity's routes plus `extra` ones (chapter 5's contract), inside
    /// the common layers.
    pub fn into_router_with(self, extra: Router) -> Router {
        server::with_common_layers(http::router(self.state).merge(extra), 16 * 1024)
    }
}

/// The identity process: its own settings plus how to reach the registry
/// (the gateway finds identity there to fetch its keys).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "identity", about = "The Bookshop identity service", version)]
pub struct ProcessConfig {
    #[command(flatten)]
    pub identity: Config,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Runs an identity process, registered, until `shutdown` completes.
pub async fn run(
    config: ProcessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, shutdown, Router::new()).await
}

/// [`run`], with `extra` routes beside identity's own.
pub async fn run_with(
    config: ProcessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra: Router,
) -> anyhow::Result<()> {
    let listener = server::bind(config.identity.listen, "IDENTITY_LISTEN").await?;
    let app = App::open(&config.identity).await?;
    let router = app.into_router_with(extra);
    chapter3::serve_registered(
        listener,
        &config.registry,
        "identity",
        shutdown,
        |l, s| async move {
            server::serve(l, router, s).await?;
            Ok(())
        },
    )
    .await
}
