//! Alerting rules for the catalog's availability SLO: 99.5 % of its
//! requests succeed over 30 days, so 0.5 % may fail (the error budget).
//! Prometheus reads the YAML below; `promtool test rules` checks it.

// ANCHOR: solution
/// The rules file, as Prometheus loads it.
///
/// Burn rate = error ratio / budget. At 14.4 the month's budget lasts two
/// days, and one hour of it spends 2 %; at 6, six hours spend 5 %. Each
/// alert needs its long window (so a blip is not enough) and its short
/// one (so it stops soon after the errors do).
pub const RULES: &str = r#"
groups:
  - name: slo-catalog
    rules:
      - alert: CatalogFastBurn
        expr: |
          (
            sum(rate(http_server_requests_total{service="catalog",status="5xx"}[1h]))
            / sum(rate(http_server_requests_total{service="catalog"}[1h]))
          ) > 14.4 * 0.005
          and
          (
            sum(rate(http_server_requests_total{service="catalog",status="5xx"}[5m]))
            / sum(rate(http_server_requests_total{service="catalog"}[5m]))
          ) > 14.4 * 0.005
        for: 2m
        labels:
          severity: page
      - alert: CatalogSlowBurn
        expr: |
          (
            sum(rate(http_server_requests_total{service="catalog",status="5xx"}[6h]))
            / sum(rate(http_server_requests_total{service="catalog"}[6h]))
          ) > 6 * 0.005
          and
          (
            sum(rate(http_server_requests_total{service="catalog",status="5xx"}[30m]))
            / sum(rate(http_server_requests_total{service="catalog"}[30m]))
          ) > 6 * 0.005
        for: 15m
        labels:
          severity: page
"#;
// ANCHOR_END: solution
