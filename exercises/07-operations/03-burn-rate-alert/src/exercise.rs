//! Alerting rules for the catalog's availability SLO: 99.5 % of its
//! requests succeed over 30 days, so 0.5 % may fail (the error budget).
//! Prometheus reads the YAML below; `promtool test rules` checks it.

/// The rules file, as Prometheus loads it.
pub const RULES: &str = r#"
groups:
  - name: slo-catalog
    rules:
      - alert: CatalogFastBurn
        expr: |
          sum(rate(http_server_requests_total{service="catalog",status="5xx"}[5m]))
          /
          sum(rate(http_server_requests_total{service="catalog"}[5m]))
          > 0.005
        labels:
          severity: page
"#;
