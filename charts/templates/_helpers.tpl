{{/*
Shared by every twinric xApp chart (each chart's templates/ links here). The xApp's descriptor
(config/config-file.json, the same file `twinric up` and dms_cli read) drives the names, containers,
ports, probes and appenv; values.yaml adds what a descriptor cannot say (images, resources, the
sidecar's volume, secrets, the region).
*/}}

{{/* The xApp's name: the descriptor's, with "-<region>" when the chart is installed per region. */}}
{{- define "twinric.name" -}}
{{- $d := .Files.Get "config/config-file.json" | fromJson -}}
{{- if .Values.region -}}
{{- printf "%s-%s" $d.name .Values.region -}}
{{- else -}}
{{- $d.name -}}
{{- end -}}
{{- end -}}

{{/* <namespace>-<name>, as the platform's xapp-std chart names the Deployment and prefixes Services. */}}
{{- define "twinric.fullname" -}}
{{- printf "%s-%s" .Release.Namespace (include "twinric.name" .) -}}
{{- end -}}

{{- define "twinric.keyFile" -}}
{{- $name := include "twinric.name" . -}}
{{- printf "/opt/ric/secrets/%s/%s.key" $name $name -}}
{{- end -}}

{{/*
The descriptor as the pod reads it (JSON): the region's name, the images of this install, the
operator's `controls` merged over the descriptor's, and the values that follow from the name.
*/}}
{{- define "twinric.config" -}}
{{- $d := .Files.Get "config/config-file.json" | fromJson -}}
{{- $name := include "twinric.name" . -}}
{{- $_ := set $d "name" $name -}}
{{- $_ := set $d "xapp_name" $name -}}
{{- range $c := $d.containers -}}
{{- $img := $c.image -}}
{{- with $.Values.image.registry }}{{ $_ := set $img "registry" . }}{{ end -}}
{{- with $.Values.image.tag }}{{ $_ := set $img "tag" . }}{{ end -}}
{{- end -}}
{{- $ctl := mustMergeOverwrite (dict) ($d.controls | default dict) (.Values.controls | default dict) -}}
{{- if hasKey $ctl "identity" -}}
{{- $_ := set $ctl.identity "key_file" (include "twinric.keyFile" .) -}}
{{- end -}}
{{- if hasKey $ctl "subscription" -}}
{{- $_ := set $ctl.subscription "client_host" (printf "service-%s-http.%s" (include "twinric.fullname" .) .Release.Namespace) -}}
{{- end -}}
{{- $_ := set $d "controls" $ctl -}}
{{- toPrettyJson $d -}}
{{- end -}}

{{- define "twinric.labels" -}}
app: {{ include "twinric.fullname" . }}
release: {{ .Release.Name }}
app.kubernetes.io/name: {{ include "twinric.name" . }}
app.kubernetes.io/part-of: twinric
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.region }}
twinric.io/region: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "twinric.selector" -}}
app: {{ include "twinric.fullname" . }}
release: {{ .Release.Name }}
{{- end -}}

{{/* Refuse what the platform cannot work with, at render time rather than in the cluster. */}}
{{- define "twinric.guard" -}}
{{- if ne .Release.Namespace "ricxapp" -}}
{{- fail (printf "install into namespace ricxapp (not %q): appmgr registers every xApp as service-ricxapp-<name>-rmr.ricxapp" .Release.Namespace) -}}
{{- end -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail "replicaCount must be 1: each instance owns its E2 subscriptions and its twin's streams; scale out by region (values.region, one release per region)" -}}
{{- end -}}
{{- if and .Values.region (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString .Values.region))) -}}
{{- fail (printf "region %q must be a DNS label (lower-case letters, digits, '-')" (toString .Values.region)) -}}
{{- end -}}
{{- end -}}

{{/* A descriptor probe as Kubernetes wants it (the descriptor writes paths without the leading "/"). */}}
{{- define "twinric.probe" -}}
{{- if .httpGet }}
httpGet:
  path: {{ printf "/%s" (trimPrefix "/" .httpGet.path) }}
  port: {{ int .httpGet.port }}
{{- else }}
exec:
  command: {{ toJson .exec.command }}
{{- end }}
initialDelaySeconds: {{ int .initialDelaySeconds }}
periodSeconds: {{ int .periodSeconds }}
{{- end -}}
