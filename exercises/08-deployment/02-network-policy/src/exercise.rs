//! Who may call payments. Payments moves money, and in Bookshop only
//! orders asks it to (chapter 5's saga): every other caller is refused by
//! the network, before a single byte reaches the service.

/// The policy, as `kubectl apply` would read it.
pub const POLICY: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: payments-from-callers
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/name: payments}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {}
        - podSelector:
            matchLabels: {app.kubernetes.io/name: orders}
"#;
