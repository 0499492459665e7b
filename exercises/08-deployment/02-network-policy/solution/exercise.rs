//! Who may call payments. Payments moves money, and in Bookshop only
//! orders asks it to (chapter 5's saga): every other caller is refused by
//! the network, before a single byte reaches the service.

// ANCHOR: solution
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
    # One rule: from orders' pods in this namespace, to port 8080. Each
    # `-` under `from` is a peer of its own and peers are OR-ed, so a
    # separate `- namespaceSelector: {}` would let every pod in the
    # cluster in. Without `ports`, every port would be open.
    - from:
        - podSelector:
            matchLabels: {app.kubernetes.io/name: orders}
      ports:
        - {protocol: TCP, port: 8080}
"#;
// ANCHOR_END: solution
