//! The catalog's Deployment, as Kubernetes reads it. The probes decide
//! when the catalog is restarted (liveness) and when it gets traffic
//! (readiness), so they must ask the right questions on the right port.

// ANCHOR: solution
/// The manifest, as `kubectl apply` would read it.
pub const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: catalog}
  template:
    metadata:
      labels: {app.kubernetes.io/name: catalog}
    spec:
      containers:
        - name: catalog
          image: localhost/bookshop-service:0.1.0
          args: [catalog, --listen, "0.0.0.0:8080", --database-url, "sqlite:///data/catalog.sqlite"]
          env:
            - name: REGISTRY_TOKEN
              value: dev-token
          ports:
            - {name: http, containerPort: 8080}
          # Live: the process answers. Never a dependency, or a database
          # outage restarts every instance at once.
          livenessProbe:
            httpGet: {path: /health/live, port: http}
          # Ready: it can do its job now. Failing only takes it out of the
          # Service's endpoints until it passes again.
          readinessProbe:
            httpGet: {path: /health/ready, port: http}
"#;
// ANCHOR_END: solution
