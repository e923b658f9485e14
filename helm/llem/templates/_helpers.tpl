{{/* Names: llem.fullname is the release's base name; each component appends its own. */}}
{{- define "llem.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "llem.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "llem.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels; call with (dict "ctx" $ "component" "api"). */}}
{{- define "llem.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llem.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "llem.labels" -}}
helm.sh/chart: {{ include "llem.chart" .ctx }}
{{ include "llem.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: llem
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/* An image reference; call with (dict "image" .Values.image "ctx" $). The tag defaults to appVersion. */}}
{{- define "llem.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/* The bundled NATS chart's Service name (its nats.fullname, computed from the values it gets). */}}
{{- define "llem.natsFullname" -}}
{{- if .Values.nats.fullnameOverride }}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "nats" .Values.nats.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* LLEM_NATS_URL: the bundled server's Service, or the external URLs. */}}
{{- define "llem.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s.%s.svc:%d" (include "llem.natsFullname" .) .Release.Namespace (int (.Values.nats.config.nats.port | default 4222)) }}
{{- else }}
{{- required "nats.external.url is required when nats.enabled is false" .Values.nats.external.url }}
{{- end }}
{{- end }}

{{- define "llem.databaseUrl" -}}
{{- with .Values.database }}
{{- printf "postgresql://%s@%s:%d/%s?sslmode=%s" (.user | urlquery) .host (int .port) (.name | urlquery) .sslmode }}
{{- if .caSecret.existingSecret }}
{{- printf "&sslrootcert=/etc/llem/db-ca/%s" .caSecret.key }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment of every control-plane container. Call with (dict "ctx" $ "seed" "api.nk" "database" true).
The password goes to PGPASSWORD (libpq reads it when the URL has none): a URL would need it percent-encoded.
*/}}
{{- define "llem.env" -}}
{{- $v := .ctx.Values -}}
- name: LLEM_PREFIX
  value: {{ $v.prefix | quote }}
- name: LLEM_STREAM_REPLICAS
  value: {{ $v.streamReplicas | quote }}
- name: LLEM_NATS_URL
  value: {{ include "llem.natsUrl" .ctx | quote }}
{{- if and .seed $v.nats.credentials.existingSecret }}
- name: LLEM_NATS_NKEY_SEED
  value: {{ printf "/etc/llem/nats/%s" .seed | quote }}
{{- end }}
{{- if $v.nats.clientTlsCA.existingSecret }}
- name: LLEM_NATS_TLS_CA
  value: {{ printf "/etc/llem/nats-ca/%s" $v.nats.clientTlsCA.key | quote }}
{{- end }}
{{- if .database }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.existingSecret | quote }}
      key: {{ $v.database.passwordKey | quote }}
- name: LLEM_DATABASE_URL
  value: {{ include "llem.databaseUrl" .ctx | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts and volumes for one seed key (call with the same dict as llem.env). */}}
{{- define "llem.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .seed .ctx.Values.nats.credentials.existingSecret }}
- name: nats-seed
  mountPath: /etc/llem/nats
  readOnly: true
{{- end }}
{{- if .ctx.Values.nats.clientTlsCA.existingSecret }}
- name: nats-ca
  mountPath: /etc/llem/nats-ca
  readOnly: true
{{- end }}
{{- if and .database .ctx.Values.database.caSecret.existingSecret }}
- name: database-ca
  mountPath: /etc/llem/db-ca
  readOnly: true
{{- end }}
{{- end }}

{{- define "llem.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if and .seed .ctx.Values.nats.credentials.existingSecret }}
- name: nats-seed
  secret:
    secretName: {{ .ctx.Values.nats.credentials.existingSecret | quote }}
    defaultMode: 0440
    items:
      - key: {{ .seed | quote }}
        path: {{ .seed | quote }}
{{- end }}
{{- if .ctx.Values.nats.clientTlsCA.existingSecret }}
- name: nats-ca
  secret:
    secretName: {{ .ctx.Values.nats.clientTlsCA.existingSecret | quote }}
    items:
      - key: {{ .ctx.Values.nats.clientTlsCA.key | quote }}
        path: {{ .ctx.Values.nats.clientTlsCA.key | quote }}
{{- end }}
{{- with .ctx.Values.database.caSecret }}
{{- if and $.database .existingSecret }}
- name: database-ca
  secret:
    secretName: {{ .existingSecret | quote }}
    items:
      - key: {{ .key | quote }}
        path: {{ .key | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every control-plane pod. */}}
{{- define "llem.podSpecCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
