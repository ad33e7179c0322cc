{{/* Name prefix of every object: "<release>-ocireg", or the release name when it already says ocireg. */}}
{{- define "ocireg.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "ocireg" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-ocireg" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ocireg.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: ocireg
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ocireg
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "blob-service") */}}
{{- define "ocireg.selectorLabels" -}}
app.kubernetes.io/name: ocireg
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ocireg.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "ocireg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (include "ocireg.fullname" .) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end -}}

{{- define "ocireg.secretName" -}}
{{ .Values.credentials.existingSecret | default (printf "%s-credentials" (include "ocireg.fullname" .)) }}
{{- end -}}

{{/* Credentials from the Secret, as environment variables. */}}
{{- define "ocireg.credentialsEnv" -}}
- name: REGISTRY_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "ocireg.secretName" . }}
      key: database-url
- name: REGISTRY_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "ocireg.secretName" . }}
      key: redis-password
- name: REGISTRY_STORAGE_S3_ACCESSKEY
  valueFrom:
    secretKeyRef:
      name: {{ include "ocireg.secretName" . }}
      key: s3-access-key
- name: REGISTRY_STORAGE_S3_SECRETKEY
  valueFrom:
    secretKeyRef:
      name: {{ include "ocireg.secretName" . }}
      key: s3-secret-key
- name: REGISTRY_HTTP_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "ocireg.secretName" . }}
      key: http-secret
      optional: true
{{- end -}}
