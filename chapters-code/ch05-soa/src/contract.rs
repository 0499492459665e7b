//! Contracts: every service publishes an OpenAPI 3.1 document generated
//! from its handlers (utoipa), serves it at `/openapi.json`, and shows it
//! at `/docs` (Swagger UI, bundled into the binary: no CDN).
//!
//! The document is also checked in under `openapi/`, and a test fails when
//! the code and the file disagree: a contract change is a visible diff in
//! review, never an accident.

use axum::Router;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use ch01_autonomy::problem::{FieldError, Problem};
use ch04_gateway::caller::USER_HEADER;

/// Where the document and the docs UI are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

// ANCHOR: publish
/// Splits an [`OpenApiRouter`] into the service's routes and its document,
/// and serves the document beside the routes.
pub fn publish(api: OpenApiRouter, title: &str) -> Router {
    let (router, document) = api.split_for_parts();
    serve(router, finish(document, title))
}

/// Serves `document` at `/openapi.json` and the docs UI at `/docs`.
pub fn serve(router: Router, document: OpenApi) -> Router {
    router.merge(SwaggerUi::new(DOCS_PATH).url(DOCUMENT_PATH, document))
}

/// The document alone, as [`publish`] serves it.
pub fn document<S: Clone + Send + Sync + 'static>(api: OpenApiRouter<S>, title: &str) -> OpenApi {
    finish(api.into_openapi(), title)
}
// ANCHOR_END: publish

fn finish(mut document: OpenApi, title: &str) -> OpenApi {
    document.info.title = format!("Bookshop {title}");
    document.info.version = "1".to_owned();
    document.info.description = None;
    document.info.license = None;
    document.info.contact = None;
    add_problem_responses(&mut document);
    document
}

// ANCHOR: problems
/// Every operation can fail the same few ways, all answered by the common
/// layers of chapter 1 with `application/problem+json`. Saying so once
/// here keeps the handlers' annotations about what is special to them.
fn add_problem_responses(document: &mut OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Problem".to_owned(), Problem::schema());
    components
        .schemas
        .insert("FieldError".to_owned(), FieldError::schema());
    // ANCHOR: problem_statuses
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let mut statuses = vec![
                ("404", "No such resource"),
                ("500", "A bug; the body says nothing more"),
                ("503", "The service's database does not answer"),
            ];
            if asks_who_calls(operation) {
                statuses.push(("401", "No verified caller: call through the gateway"));
            }
            if operation.request_body.is_some() {
                statuses.extend([
                    ("400", "The body is not JSON"),
                    ("413", "The body is too large"),
                    ("415", "The body is not `application/json`"),
                    ("422", "The body is JSON but a field is wrong"),
                ]);
            }
            for (status, description) in statuses {
                add_problem(operation, status, description);
            }
        }
    }
    // ANCHOR_END: problem_statuses
}

/// Whether the operation takes the caller ([`Caller`] in its `params`).
///
/// [`Caller`]: ch04_gateway::caller::Caller
fn asks_who_calls(operation: &Operation) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| matches!(parameter, RefOr::T(p) if p.name == USER_HEADER))
}

// ANCHOR: add_problem
fn add_problem(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/problem+json", content)
                    .build(),
            )
        });
}
// ANCHOR_END: add_problem
// ANCHOR_END: problems
