{{/*
Named templates of postfix-sasl-exporter.

Every helper takes the root context ".". It may be this chart's own context
or, when a Postfix chart has this chart as a dependency (under the name
postfix-sasl-exporter, no alias), the parent chart's context: the helpers
then read this chart's values from .Values.postfix-sasl-exporter, so
`include "postfix-sasl-exporter.sidecar" .` works from the parent's
templates. The public helpers for a Postfix chart are:

  postfix-sasl-exporter.sidecar          the exporter container (one list item)
  postfix-sasl-exporter.containers       that item unless sidecar.native
  postfix-sasl-exporter.initContainers   that item when sidecar.native
  postfix-sasl-exporter.volumes          the pod volumes the exporter needs
  postfix-sasl-exporter.logVolumeMount   the read-write log (or socket) mount for Postfix
  postfix-sasl-exporter.socketPath       where Postfix's /dev/log must point (input: socket)
  postfix-sasl-exporter.showqVolumeMount the read-write mount of Postfix's public/ (showq.enabled)
  postfix-sasl-exporter.podSecurityContext  podSecurityContext plus showq.postdropGid
  postfix-sasl-exporter.selectorLabels   this chart's selector labels
*/}}

{{/* Kept equal to appVersion in Chart.yaml (checked by tests/helm): a parent
chart's context has its own .Chart, so the default image tag cannot come from
.Chart.AppVersion there. */}}
{{- define "postfix-sasl-exporter.appVersion" -}}
0.1.0
{{- end -}}

{{/* This chart's values, as YAML, from either kind of context. */}}
{{- define "postfix-sasl-exporter.values" -}}
{{- if eq .Chart.Name "postfix-sasl-exporter" -}}
{{- toYaml .Values -}}
{{- else if hasKey .Values "postfix-sasl-exporter" -}}
{{- toYaml (index .Values "postfix-sasl-exporter") -}}
{{- else -}}
{{- fail "postfix-sasl-exporter helpers: add the postfix-sasl-exporter chart to this chart's dependencies (without an alias)" -}}
{{- end -}}
{{- end -}}

{{- define "postfix-sasl-exporter.name" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- default "postfix-sasl-exporter" $v.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postfix-sasl-exporter.fullname" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.fullnameOverride -}}
{{- $v.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "postfix-sasl-exporter" $v.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "postfix-sasl-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postfix-sasl-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postfix-sasl-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of the pods the Service and PodMonitor select: podSelectorLabels
when set (the exporter runs inside another chart's pods), else ours. */}}
{{- define "postfix-sasl-exporter.podSelector" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.podSelectorLabels -}}
{{- toYaml $v.podSelectorLabels -}}
{{- else -}}
{{- include "postfix-sasl-exporter.selectorLabels" . -}}
{{- end -}}
{{- end -}}

{{- define "postfix-sasl-exporter.labels" -}}
helm.sh/chart: {{ include "postfix-sasl-exporter.chart" . }}
{{ include "postfix-sasl-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ include "postfix-sasl-exporter.appVersion" . | quote }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: postfix-sasl-exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "postfix-sasl-exporter.serviceAccountName" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.serviceAccount.create -}}
{{- default (include "postfix-sasl-exporter.fullname" .) $v.serviceAccount.name -}}
{{- else -}}
{{- default "default" $v.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "postfix-sasl-exporter.image" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- printf "%s:%s" $v.image.repository (default (include "postfix-sasl-exporter.appVersion" .) $v.image.tag) -}}
{{- end -}}

{{/* Paths inside the exporter container. */}}
{{- define "postfix-sasl-exporter.configDir" -}}/etc/postfix-sasl-exporter/config{{- end -}}
{{- define "postfix-sasl-exporter.webConfigDir" -}}/etc/postfix-sasl-exporter/web{{- end -}}
{{- define "postfix-sasl-exporter.tlsDir" -}}/etc/postfix-sasl-exporter/tls{{- end -}}
{{- define "postfix-sasl-exporter.stateDir" -}}/var/lib/postfix-sasl-exporter{{- end -}}

{{/* "true" when the exporter is Postfix's syslog server (sidecar.input:
socket): it creates a unix datagram socket in an emptyDir shared with Postfix,
whose /dev/log points at it; no log file, no position file. */}}
{{- define "postfix-sasl-exporter.socketInput" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if and (ne $v.mode "journal") (eq ($v.sidecar.input | default "file") "socket") }}true{{ end -}}
{{- end -}}

{{/* The socket's path: sidecar.socket.dir/sidecar.socket.name. */}}
{{- define "postfix-sasl-exporter.socketPath" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- printf "%s/%s" $v.sidecar.socket.dir $v.sidecar.socket.name -}}
{{- end -}}

{{/* "true" when config sets the state file under any of its names (flags win
over the config file, so the chart must not pass one then). */}}
{{- define "postfix-sasl-exporter.stateInConfig" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- range $key := list "state.file" "postfix.logfile_position_file" "systemd.cursor_file" -}}
{{- if hasKey $v.config $key }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the pod needs the state emptyDir (--state.file: read position,
counters and sessions across exporter restarts). */}}
{{- define "postfix-sasl-exporter.needsState" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if eq $v.mode "journal" -}}
{{- if and $v.journal.cursorFile (not (include "postfix-sasl-exporter.stateInConfig" .)) }}true{{ end -}}
{{- else -}}
{{- if and $v.sidecar.positionFile (not (include "postfix-sasl-exporter.socketInput" .)) (not (include "postfix-sasl-exporter.stateInConfig" .)) }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/*
Command-line arguments. A flag whose key is set in .Values.config is left
out, so the config file decides and the two never disagree.
*/}}
{{- define "postfix-sasl-exporter.args" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- $c := $v.config | default dict -}}
{{- $args := list -}}
{{- if not (hasKey $c "web.listen-address") -}}
{{- $args = append $args (printf "--web.listen-address=:%d" (int $v.containerPort)) -}}
{{- end -}}
{{- if not (hasKey $c "web.telemetry-path") -}}
{{- $args = append $args (printf "--web.telemetry-path=%s" $v.telemetryPath) -}}
{{- end -}}
{{- if $c -}}
{{- $args = append $args (printf "--config.file=%s/config.yaml" (include "postfix-sasl-exporter.configDir" .)) -}}
{{- end -}}
{{- if and $v.webConfig (not (hasKey $c "web.config.file")) -}}
{{- $args = append $args (printf "--web.config.file=%s/web-config.yml" (include "postfix-sasl-exporter.webConfigDir" .)) -}}
{{- end -}}
{{- if eq $v.mode "journal" -}}
{{- if not (hasKey $c "systemd.enable") -}}
{{- $args = append $args "--systemd.enable" -}}
{{- end -}}
{{- if not (hasKey $c "systemd.journal_path") -}}
{{- $args = append $args (printf "--systemd.journal_path=%s" $v.journal.path) -}}
{{- end -}}
{{- if not (hasKey $c "systemd.unit") -}}
{{- range $v.journal.units -}}
{{- $args = append $args (printf "--systemd.unit=%s" .) -}}
{{- end -}}
{{- end -}}
{{- if and $v.journal.slice (not (hasKey $c "systemd.slice")) -}}
{{- $args = append $args (printf "--systemd.slice=%s" $v.journal.slice) -}}
{{- end -}}
{{- if include "postfix-sasl-exporter.needsState" . -}}
{{- $args = append $args (printf "--state.file=%s/state" (include "postfix-sasl-exporter.stateDir" .)) -}}
{{- end -}}
{{- else if include "postfix-sasl-exporter.socketInput" . -}}
{{- if not (hasKey $c "syslog.listen-address") -}}
{{- $args = append $args (printf "--syslog.listen-address=unixgram://%s" (include "postfix-sasl-exporter.socketPath" .)) -}}
{{- end -}}
{{- if not (hasKey $c "syslog.socket-mode") -}}
{{- $args = append $args (printf "--syslog.socket-mode=%s" $v.sidecar.socket.mode) -}}
{{- end -}}
{{- if and $v.sidecar.socket.echo (not (hasKey $c "syslog.echo")) -}}
{{- $args = append $args "--syslog.echo" -}}
{{- end -}}
{{- else -}}
{{- if not (hasKey $c "postfix.logfile_path") -}}
{{- $args = append $args (printf "--postfix.logfile_path=%s" $v.sidecar.logPath) -}}
{{- end -}}
{{- if and $v.sidecar.fromBeginning (not (hasKey $c "postfix.logfile_from_beginning")) -}}
{{- $args = append $args "--postfix.logfile_from_beginning" -}}
{{- end -}}
{{- if include "postfix-sasl-exporter.needsState" . -}}
{{- $args = append $args (printf "--state.file=%s/state" (include "postfix-sasl-exporter.stateDir" .)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.showq.enabled (not (hasKey $c "postfix.showq_path")) -}}
{{- $args = append $args (printf "--postfix.showq_path=%s/showq" $v.showq.dir) -}}
{{- end -}}
{{- $args = concat $args ($v.extraArgs | default list) -}}
{{- toYaml $args -}}
{{- end -}}

{{/* One probe: HTTP(S) GET of path, or a TCP check when basic auth would
answer 401 to the kubelet. */}}
{{- define "postfix-sasl-exporter.probe" -}}
{{- $v := index . 0 -}}
{{- $path := index . 1 -}}
{{- $settings := index . 2 | default dict -}}
{{- $web := $v.webConfig | default dict -}}
{{- $probe := dict -}}
{{- if $web.basic_auth_users -}}
{{- $_ := set $probe "tcpSocket" (dict "port" "metrics") -}}
{{- else -}}
{{- $scheme := ternary "HTTPS" "HTTP" (hasKey $web "tls_server_config") -}}
{{- $_ := set $probe "httpGet" (dict "path" $path "port" "metrics" "scheme" $scheme) -}}
{{- end -}}
{{- toYaml (merge $probe $settings) -}}
{{- end -}}

{{/* The exporter container, as one item of a containers list. */}}
{{- define "postfix-sasl-exporter.sidecar" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if and $v.sidecar.native (eq $v.mode "sidecar" "none") (semverCompare "<1.29.0-0" .Capabilities.KubeVersion.Version) -}}
{{- fail "sidecar.native needs Kubernetes >= 1.29 (initContainers with restartPolicy: Always)" -}}
{{- end -}}
{{- $socket := include "postfix-sasl-exporter.socketInput" . -}}
{{- if and $socket (not $v.sidecar.native) -}}
{{- fail "sidecar.input: socket needs sidecar.native: true, so the socket exists before Postfix starts (messages logged before it are lost)" -}}
{{- end -}}
- name: postfix-sasl-exporter
  image: {{ include "postfix-sasl-exporter.image" . | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if and $v.sidecar.native (ne $v.mode "journal") }}
  restartPolicy: Always
  {{- end }}
  args:
    {{- include "postfix-sasl-exporter.args" . | nindent 4 }}
  {{- with $v.extraEnv }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - name: metrics
      containerPort: {{ int $v.containerPort }}
      protocol: TCP
  livenessProbe:
    {{- include "postfix-sasl-exporter.probe" (list $v "/-/healthy" $v.livenessProbe) | nindent 4 }}
  readinessProbe:
    {{- include "postfix-sasl-exporter.probe" (list $v "/-/ready" $v.readinessProbe) | nindent 4 }}
  {{- if $socket }}
  {{- /* The kubelet starts Postfix once this passes; the exporter binds its
  socket before it answers HTTP. */}}
  startupProbe:
    {{- include "postfix-sasl-exporter.probe" (list $v "/-/healthy" (dict "periodSeconds" 1 "failureThreshold" 60)) | nindent 4 }}
  {{- end }}
  {{- with $v.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    {{- include "postfix-sasl-exporter.volumeMounts" . | nindent 4 }}
{{- end -}}

{{- define "postfix-sasl-exporter.containers" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if not $v.sidecar.native -}}
{{ include "postfix-sasl-exporter.sidecar" . }}
{{- end -}}
{{- end -}}

{{- define "postfix-sasl-exporter.initContainers" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.sidecar.native -}}
{{ include "postfix-sasl-exporter.sidecar" . }}
{{- end -}}
{{- end -}}

{{/* Mounts of the exporter container. */}}
{{- define "postfix-sasl-exporter.volumeMounts" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if eq $v.mode "journal" -}}
- name: journal
  mountPath: {{ $v.journal.path }}
  readOnly: true
{{- else if include "postfix-sasl-exporter.socketInput" . -}}
{{- /* Read-write: the exporter creates (and at exit removes) the socket. */ -}}
- name: {{ $v.sidecar.socket.volumeName }}
  mountPath: {{ $v.sidecar.socket.dir }}
{{- else -}}
- name: {{ $v.sidecar.logVolume.name }}
  mountPath: {{ dir $v.sidecar.logPath }}
  readOnly: true
{{- end }}
{{- if include "postfix-sasl-exporter.needsState" . }}
- name: exporter-state
  mountPath: {{ include "postfix-sasl-exporter.stateDir" . }}
{{- end }}
{{- if $v.showq.enabled }}
{{- /* Read-only is enough: connecting to a socket needs write permission on
the socket, which a read-only mount does not take away. */}}
- name: {{ $v.showq.volumeName }}
  mountPath: {{ $v.showq.dir }}
  readOnly: true
{{- end }}
{{- if $v.config }}
- name: exporter-config
  mountPath: {{ include "postfix-sasl-exporter.configDir" . }}
  readOnly: true
{{- end }}
{{- if $v.webConfig }}
- name: exporter-web-config
  mountPath: {{ include "postfix-sasl-exporter.webConfigDir" . }}
  readOnly: true
{{- end }}
{{- if $v.tlsSecretName }}
- name: exporter-tls
  mountPath: {{ include "postfix-sasl-exporter.tlsDir" . }}
  readOnly: true
{{- end }}
{{- with $v.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The read-write mount of the shared log directory, for Postfix (with
sidecar.input socket: of the socket's directory; point /dev/log at
sidecar.socket.dir/sidecar.socket.name). */}}
{{- define "postfix-sasl-exporter.logVolumeMount" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if include "postfix-sasl-exporter.socketInput" . -}}
- name: {{ $v.sidecar.socket.volumeName }}
  mountPath: {{ $v.sidecar.socket.dir }}
{{- else -}}
- name: {{ $v.sidecar.logVolume.name }}
  mountPath: {{ dir $v.sidecar.logPath }}
{{- end -}}
{{- end -}}

{{/* The read-write mount of Postfix's public/ directory (where master
creates the showq socket), for the Postfix container; empty unless
showq.enabled. */}}
{{- define "postfix-sasl-exporter.showqVolumeMount" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.showq.enabled -}}
- name: {{ $v.showq.volumeName }}
  mountPath: {{ $v.showq.dir }}
{{- end -}}
{{- end -}}

{{/* The pod's securityContext: podSecurityContext, with showq.postdropGid
added to supplementalGroups (public/ is postfix:postdrop, mode 2710). */}}
{{- define "postfix-sasl-exporter.podSecurityContext" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- $sc := $v.podSecurityContext | default dict -}}
{{- if and $v.showq.enabled (ne (toString $v.showq.postdropGid) "<nil>") -}}
{{- $groups := $sc.supplementalGroups | default list -}}
{{- $_ := set $sc "supplementalGroups" (append $groups (int64 $v.showq.postdropGid) | uniq) -}}
{{- end -}}
{{- with $sc }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/* Volumes of the pod: the shared log (or the host's journal), state,
Postfix's public/ (showq), config, web config, TLS and extraVolumes. */}}
{{- define "postfix-sasl-exporter.volumes" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- $fullname := include "postfix-sasl-exporter.fullname" . -}}
{{- if eq $v.mode "journal" -}}
{{- /* type Directory: creating a missing /var/log/journal on the node would
switch journald (Storage=auto) to persistent storage. */ -}}
- name: journal
  hostPath:
    path: {{ $v.journal.path }}
    type: Directory
{{- else if include "postfix-sasl-exporter.socketInput" . -}}
- name: {{ $v.sidecar.socket.volumeName }}
  emptyDir: {}
{{- else -}}
- name: {{ $v.sidecar.logVolume.name }}
  {{- if $v.sidecar.logVolume.source }}
  {{- toYaml $v.sidecar.logVolume.source | nindent 2 }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}
{{- if include "postfix-sasl-exporter.needsState" . }}
- name: exporter-state
  emptyDir: {}
{{- end }}
{{- if $v.showq.enabled }}
{{- if and (eq $v.mode "journal") (not $v.showq.source) }}
{{- fail "showq.enabled in journal mode: set showq.source to the node's queue directory, e.g. {hostPath: {path: /var/spool/postfix/public, type: Directory}}" }}
{{- end }}
- name: {{ $v.showq.volumeName }}
  {{- if $v.showq.source }}
  {{- toYaml $v.showq.source | nindent 2 }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}
{{- if $v.config }}
- name: exporter-config
  configMap:
    name: {{ $fullname }}-config
{{- end }}
{{- if $v.webConfig }}
- name: exporter-web-config
  secret:
    secretName: {{ $fullname }}-web-config
{{- end }}
{{- if $v.tlsSecretName }}
- name: exporter-tls
  secret:
    secretName: {{ $v.tlsSecretName }}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod annotations that roll the pods when the config changes. */}}
{{- define "postfix-sasl-exporter.checksums" -}}
{{- $v := include "postfix-sasl-exporter.values" . | fromYaml -}}
{{- if $v.config }}
checksum/config: {{ toYaml $v.config | sha256sum }}
{{- end }}
{{- if $v.webConfig }}
checksum/web-config: {{ toYaml $v.webConfig | sha256sum }}
{{- end }}
{{- end -}}

{{/* Namespace of a monitoring object: its own setting or the release's. */}}
{{- define "postfix-sasl-exporter.monitorNamespace" -}}
{{- $ns := index . 1 -}}
{{- default (index . 0).Release.Namespace $ns -}}
{{- end -}}
