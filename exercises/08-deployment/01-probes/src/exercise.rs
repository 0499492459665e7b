//! The catalog's Deployment, as Kubernetes reads it. The probes decide
//! when the catalog is restarted (liveness) and when it gets traffic
//! (readiness), so they must ask the right questions on the right port.

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
          livenessProbe:
            httpGet: {path: /health/ready, port: http}
          readinessProbe:
            httpGet: {path: /health/live, port: 8000}
"#;
