//! The gateway's scaling: a Deployment, a HorizontalPodAutoscaler that adds
//! gateways when their CPU runs hot, and a PodDisruptionBudget that keeps
//! enough of them while a node is drained for maintenance.

/// The manifests, as `kubectl apply` would read them.
pub const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: gateway}
  template:
    metadata:
      labels: {app.kubernetes.io/name: gateway}
    spec:
      containers:
        - name: gateway
          image: localhost/bookshop-service:0.1.0
          args: [gateway, --listen, "0.0.0.0:8080", --registry-url, "http://registry:8080"]
          ports:
            - {name: http, containerPort: 8080}
          resources:
            limits: {memory: 128Mi}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: gateway
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: gateway}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 70}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: gateway
spec:
  minAvailable: 2
  selector:
    matchLabels: {app.kubernetes.io/name: gateway}
"#;
