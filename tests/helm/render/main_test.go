package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeChart lays out a chart in a temp dir; files maps relative paths to
// contents.
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func renderToString(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.yaml")
	err := render(append(args, "--yaml", out))
	if err != nil {
		return "", err
	}
	b, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return string(b), nil
}

const chartYAML = "apiVersion: v2\nname: t\nversion: 0.1.0\nappVersion: \"1.2\"\n"

func TestBuiltinsBehaveLikeHelm(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml":       chartYAML,
		"values.yaml":      "port: 9154\nbig: 1000000\nname: x\nnested: {a: 1, b: 2}\ngreeting: \"hi {{ .Values.name }}\"\n",
		"templates/_h.tpl": `{{- define "t.name" -}}{{ .Chart.Name }}-{{ .Values.name }}{{- end -}}`,
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "t.name" . }}
data:
  port: {{ .Values.port | quote }}
  big: {{ .Values.big | quote }}
  tpl: {{ tpl .Values.greeting . | quote }}
  missing: "{{ .Values.nothing }}"
  nested: {{ toYaml .Values.nested | quote }}
  fromYaml: {{ (fromYaml "a: 1").a | quote }}
  release: {{ .Release.Name }}-{{ .Release.Namespace }}
  appVersion: {{ .Chart.AppVersion | quote }}
`,
	})
	got, err := renderToString(t, "--chart", dir, "--release", "r", "--namespace", "ns")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"name: t-x",
		`port: "9154"`,
		`big: "1e+06"`, // Helm's values are float64, so is this gotcha
		`tpl: "hi x"`,
		`missing: ""`,
		`nested: "a: 1\nb: 2"`,
		`fromYaml: "1"`,
		"release: r-ns",
		`appVersion: "1.2"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestRequiredFailsOnMissingValue(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml":        chartYAML,
		"templates/cm.yaml": `{{ required "image.repository is required" .Values.image }}`,
	})
	_, err := renderToString(t, "--chart", dir)
	if err == nil || !strings.Contains(err.Error(), "image.repository is required") {
		t.Fatalf("want the required message, got %v", err)
	}
}

func TestUserNullDeletesDefaultAndLaterFileWins(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml":  chartYAML,
		"values.yaml": "a: {x: 1, c: 2}\nb: keep\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  a: {{ toJson .Values.a | quote }}
  b: {{ .Values.b | quote }}
`,
		"one.yaml": "a: {c: 3}\nb: one\n",
		"two.yaml": "a: {x: null}\nb: two\n",
	})
	got, err := renderToString(t, "--chart", dir, "-f", filepath.Join(dir, "one.yaml"), "-f", filepath.Join(dir, "two.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `a: "{\"c\":3}"`) || !strings.Contains(got, `b: "two"`) {
		t.Fatalf("coalescing differs from Helm:\n%s", got)
	}
}

func TestFilesFollowSymlinksAndHonourHelmignore(t *testing.T) {
	shared := writeChart(t, map[string]string{"d.json": "{}\n", "tests/t.yml": "x: 1\n"})
	dir := writeChart(t, map[string]string{
		"Chart.yaml":  chartYAML,
		".helmignore": "files/shared/tests/\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  {{- (.Files.Glob "files/shared/*.json").AsConfig | nindent 2 }}
  n: "{{ len (.Files.Glob "files/shared/tests/*") }}"
`,
	})
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(dir, "files", "shared")); err != nil {
		t.Fatal(err)
	}
	got, err := renderToString(t, "--chart", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "d.json: |\n    {}") || !strings.Contains(got, `n: "0"`) {
		t.Fatalf("files through the symlink or .helmignore wrong:\n%s", got)
	}
}

func TestDuplicateKeysAndKindlessDocumentsAreErrors(t *testing.T) {
	for name, body := range map[string]string{
		"dup":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nkind: Secret\n",
		"kind": "apiVersion: v1\nmetadata: {name: a}\n",
	} {
		dir := writeChart(t, map[string]string{"Chart.yaml": chartYAML, "templates/x.yaml": body})
		if _, err := renderToString(t, "--chart", dir); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

func TestKubeVersionConstraintIsEnforced(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml":       chartYAML + "kubeVersion: \">=1.29.0-0\"\n",
		"templates/x.yaml": "",
	})
	if _, err := renderToString(t, "--chart", dir, "--kube-version", "v1.28.0"); err == nil {
		t.Error("kubeVersion constraint ignored")
	}
	if _, err := renderToString(t, "--chart", dir, "--kube-version", "v1.29.2"); err != nil {
		t.Error(err)
	}
}
