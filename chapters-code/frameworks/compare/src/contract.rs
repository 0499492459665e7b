//! What every version of the slice must answer, checked over HTTP
//! against a running process. Each framework's crate runs it in its own
//! test, so a version that drifts fails its own `cargo test -p`.

use anyhow::{Context, bail, ensure};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// The header every response carries, set by the request-id middleware.
pub const REQUEST_ID: &str = "x-request-id";

/// Starts the slice's binary at `program` on a fresh database and runs
/// [`check`] against it.
pub async fn check_binary(program: &str) -> anyhow::Result<()> {
    let db = testkit::TempDb::new();
    let service = testkit::ServiceProcess::builder(program)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        .spawn()
        .await?;
    check(service.base_url()).await
}

// ANCHOR: check
/// Runs every check against the slice at `base` (e.g. `http://127.0.0.1:4100`).
pub async fn check(base: &str) -> anyhow::Result<()> {
    let client = Client::new();
    let call = Call {
        client: &client,
        base,
    };
    health(&call).await.context("health endpoints")?;
    request_ids(&call).await.context("request ids")?;
    listing(&call).await.context("GET /v1/books")?;
    one_book(&call).await.context("GET /v1/books/{id}")?;
    creating(&call).await.context("POST /v1/books")?;
    let unknown = call.get("/no/such/route").await?;
    problem(unknown, StatusCode::NOT_FOUND)
        .await
        .context("an unknown route")?;
    Ok(())
}
// ANCHOR_END: check

struct Call<'a> {
    client: &'a Client,
    base: &'a str,
}

impl Call<'_> {
    async fn get(&self, path: &str) -> anyhow::Result<Response> {
        let url = format!("{}{path}", self.base);
        self.client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))
    }

    async fn post(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> anyhow::Result<Response> {
        let url = format!("{}/v1/books", self.base);
        let request = self
            .client
            .post(&url)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        request.send().await.with_context(|| format!("POST {url}"))
    }
}

async fn health(call: &Call<'_>) -> anyhow::Result<()> {
    for (path, status) in [("/health/live", "live"), ("/health/ready", "ready")] {
        let body = json_body(call.get(path).await?, StatusCode::OK).await?;
        ensure!(
            body == json!({ "status": status }),
            "{path} answered {body}"
        );
    }
    Ok(())
}

async fn request_ids(call: &Call<'_>) -> anyhow::Result<()> {
    // An answer and an error: both carry one.
    for path in ["/v1/books/1", "/v1/books/999999"] {
        let response = call.get(path).await?;
        ensure!(
            response.headers().contains_key(REQUEST_ID),
            "GET {path} ({}) has no {REQUEST_ID}",
            response.status()
        );
    }
    let url = format!("{}/v1/books/1", call.base);
    let response = call
        .client
        .get(url)
        .header(REQUEST_ID, "contract-7")
        .send()
        .await?;
    let echoed = response
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok());
    ensure!(
        echoed == Some("contract-7"),
        "the caller's request id came back as {echoed:?}"
    );
    Ok(())
}

async fn listing(call: &Call<'_>) -> anyhow::Result<()> {
    let page = json_body(call.get("/v1/books").await?, StatusCode::OK).await?;
    ensure!(
        page["limit"] == 20 && page["offset"] == 0,
        "default paging is off: {page}"
    );
    ensure!(
        page["books"]
            .as_array()
            .is_some_and(|books| books.len() == 20),
        "no page of 20 books: {page}"
    );
    let capped = json_body(call.get("/v1/books?limit=1000").await?, StatusCode::OK).await?;
    ensure!(
        capped["limit"] == 100,
        "limit=1000 was not capped at 100: {}",
        capped["limit"]
    );
    let found = json_body(call.get("/v1/books?author=Klabnik").await?, StatusCode::OK).await?;
    ensure!(
        found["total"].as_i64().is_some_and(|total| total >= 1),
        "author filter found nothing: {found}"
    );
    let zero = problem(
        call.get("/v1/books?limit=0").await?,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    ensure!(
        zero["errors"][0]["field"] == "limit",
        "limit=0 did not name the field: {zero}"
    );
    problem(
        call.get("/v1/books?limit=abc").await?,
        StatusCode::BAD_REQUEST,
    )
    .await?;
    Ok(())
}

async fn one_book(call: &Call<'_>) -> anyhow::Result<()> {
    let book = json_body(call.get("/v1/books/1").await?, StatusCode::OK).await?;
    ensure!(
        book["id"] == 1 && book["title"].is_string(),
        "book 1 is {book}"
    );
    for missing in ["/v1/books/999999", "/v1/books/abc"] {
        let absent = problem(call.get(missing).await?, StatusCode::NOT_FOUND).await?;
        ensure!(
            absent["detail"]
                .as_str()
                .is_some_and(|d| d.contains("no book")),
            "{missing}: {absent}"
        );
    }
    Ok(())
}

async fn creating(call: &Call<'_>) -> anyhow::Result<()> {
    let new_book =
        json!({"title": "  Zero To Production ", "author": "Luca Palmieri", "price_cents": 3999});
    let created = call.post("application/json", new_book.to_string()).await?;
    let location = created
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let book = json_body(created, StatusCode::CREATED).await?;
    ensure!(
        book["title"] == "Zero To Production",
        "the title was not trimmed: {book}"
    );
    let expected = format!("/v1/books/{}", book["id"]);
    ensure!(
        location.as_deref() == Some(expected.as_str()),
        "Location is {location:?}, not {expected}"
    );
    let fetched = json_body(call.get(&expected).await?, StatusCode::OK).await?;
    ensure!(
        fetched == book,
        "{expected} answers {fetched}, not the book created"
    );

    let bad = json!({"title": " ", "author": "A", "price_cents": -5}).to_string();
    let invalid = problem(
        call.post("application/json", bad).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await?;
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    ensure!(
        fields == ["title", "price_cents"],
        "the 422 names {fields:?}"
    );
    problem(
        call.post("application/json", "{\"title\": ").await?,
        StatusCode::BAD_REQUEST,
    )
    .await?;
    problem(
        call.post("text/plain", "a book").await?,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await?;
    Ok(())
}

/// The JSON body of a response that must have `status`.
async fn json_body(response: Response, status: StatusCode) -> anyhow::Result<Value> {
    let (got, content_type) = (response.status(), media_type(&response));
    let text = response.text().await?;
    ensure!(got == status, "expected {status}, got {got}: {text}");
    ensure!(
        content_type == "application/json",
        "{status} came as {content_type:?}: {text}"
    );
    serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))
}

/// A problem document (RFC 9457) with `status`, in its own media type.
async fn problem(response: Response, status: StatusCode) -> anyhow::Result<Value> {
    let (got, content_type) = (response.status(), media_type(&response));
    let text = response.text().await?;
    ensure!(got == status, "expected {status}, got {got}: {text}");
    if content_type != "application/problem+json" {
        bail!("a {status} came as {content_type:?}, not application/problem+json: {text}");
    }
    let body: Value = serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?;
    ensure!(
        body["status"] == status.as_u16(),
        "the body's status differs: {body}"
    );
    Ok(body)
}

fn media_type(response: &Response) -> String {
    let value = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    value
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
