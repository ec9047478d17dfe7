// Command helm-render renders a Helm chart the way `helm template` does, for
// tests on machines without a helm binary or a cluster.
//
// It uses the same template engine as Helm (Go's text/template) with the same
// function library (sprig, from Debian's golang-github-masterminds-sprig-dev)
// and re-implements the Helm built-ins charts rely on: include, tpl, required,
// toYaml/fromYaml/fromYamlArray, toJson/fromJson/fromJsonArray, lookup (always
// empty, as in `helm template`), .Values, .Release, .Chart, .Files (Get,
// GetBytes, Glob, Lines, AsConfig, AsSecrets), .Capabilities and .Template.
// Values are coalesced as Helm does (chart defaults < -f files in order; a
// null deletes a default; subcharts in charts/ get their defaults merged
// under their name and inherit `global`). Chart directories are walked
// following symlinks, as Helm's loader does, so a chart can reach shared
// files through a link.
//
// Usage:
//
//	helm-render render --chart DIR [-f values.yaml]... [--release NAME]
//	    [--namespace NS] [--kube-version v1.30.0] [--api-versions a/v1,...]
//	    [--yaml OUT.yaml] [--json OUT.json]
//	helm-render yaml2json FILE|-
//
// render prints the manifests (or writes them to --yaml) in `helm template`
// form, and with --json writes {"values": ..., "manifests": [{"source",
// "object"}]}, each document parsed the way the Kubernetes API machinery does
// (YAML 1.1 via yaml.v2, duplicate keys rejected, converted through JSON).
// yaml2json converts one YAML document the same way, for test scripts.
//
// Not implemented (the chart does not use them): .tgz subcharts, dependency
// conditions/tags/aliases, import-values, `**` in .Files.Glob, toToml,
// .helmignore negation patterns.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

// ---------------------------------------------------------------------------
// YAML <-> JSON, as sigs.k8s.io/yaml (Helm's and Kubernetes' YAML layer) does.

// yamlToJSONValue turns a yaml.v2 value into one that encoding/json accepts:
// map keys become strings.
func yamlToJSONValue(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			var key string
			switch kk := k.(type) {
			case string:
				key = kk
			case int, int64, uint64, float64, bool:
				key = fmt.Sprint(kk)
			case nil:
				key = "null"
			default:
				return nil, fmt.Errorf("unsupported map key %#v", k)
			}
			c, err := yamlToJSONValue(val)
			if err != nil {
				return nil, err
			}
			m[key] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			c, err := yamlToJSONValue(val)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

// yamlToJSON converts one YAML document to JSON text. strict rejects
// duplicate keys (the API server's strict field validation does too).
func yamlToJSON(doc []byte, strict bool) ([]byte, error) {
	var v interface{}
	var err error
	if strict {
		err = yaml.UnmarshalStrict(doc, &v)
	} else {
		err = yaml.Unmarshal(doc, &v)
	}
	if err != nil {
		return nil, err
	}
	jv, err := yamlToJSONValue(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(jv)
}

// unmarshalYAML decodes YAML into out through JSON, so numbers become
// float64 exactly as in Helm's values and fromYaml.
func unmarshalYAML(doc []byte, out interface{}) error {
	j, err := yamlToJSON(doc, false)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, out)
}

// marshalYAML is sigs.k8s.io/yaml.Marshal: JSON first (sorted keys, json
// tags), then YAML.
func marshalYAML(v interface{}) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var ms yaml.MapSlice
	var generic interface{}
	if err := yaml.Unmarshal(j, &generic); err != nil {
		return nil, err
	}
	if _, isMap := generic.(map[interface{}]interface{}); isMap {
		if err := yaml.Unmarshal(j, &ms); err != nil {
			return nil, err
		}
		return yaml.Marshal(ms)
	}
	return yaml.Marshal(generic)
}

// ---------------------------------------------------------------------------
// Helm template functions.

func toYAML(v interface{}) string {
	b, err := marshalYAML(v)
	if err != nil {
		return "" // Helm swallows the error the same way.
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := unmarshalYAML([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var a []interface{}
	if err := unmarshalYAML([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var a []interface{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

const recursionMaxNums = 1000

type engine struct {
	tmpl     *template.Template
	included map[string]int
}

func (e *engine) includeFunc(t *template.Template) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		e.included[name]++
		defer func() { e.included[name]-- }()
		if e.included[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
}

func (e *engine) tplFunc(parent *template.Template) func(string, interface{}) (string, error) {
	return func(text string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		// Re-bind include and tpl so they see definitions made in text.
		t.Funcs(template.FuncMap{"include": e.includeFunc(t), "tpl": e.tplFunc(t)})
		name := "tpl"
		if m, ok := vals.(map[string]interface{}); ok {
			if ti, ok := m["Template"].(templateInfo); ok {
				name = ti.Name
			}
		}
		t, err = t.New(name).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

func (e *engine) funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"required":      required,
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		// Placeholders; bound to the real template set before execution.
		"include": func(string, interface{}) string { return "not implemented" },
		"tpl":     func(string, interface{}) interface{} { return "not implemented" },
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// ---------------------------------------------------------------------------
// .Files

// Files is Helm's .Files: chart files outside templates/ keyed by path.
type Files map[string][]byte

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }

// Glob matches with path.Match semantics ('*' stops at '/').
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

func (f Files) AsConfig() string {
	if len(f) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = string(v)
	}
	return toYAML(m)
}

func (f Files) AsSecrets() string {
	if len(f) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = base64.StdEncoding.EncodeToString(v)
	}
	return toYAML(m)
}

func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// ---------------------------------------------------------------------------
// Chart loading.

// Metadata mirrors the fields of Helm's chart.Metadata templates read.
type Metadata struct {
	Name         string                   `json:"name"`
	Home         string                   `json:"home,omitempty"`
	Sources      []string                 `json:"sources,omitempty"`
	Version      string                   `json:"version"`
	Description  string                   `json:"description,omitempty"`
	Keywords     []string                 `json:"keywords,omitempty"`
	Maintainers  []map[string]interface{} `json:"maintainers,omitempty"`
	Icon         string                   `json:"icon,omitempty"`
	APIVersion   string                   `json:"apiVersion"`
	AppVersion   string                   `json:"appVersion,omitempty"`
	Deprecated   bool                     `json:"deprecated,omitempty"`
	Annotations  map[string]string        `json:"annotations,omitempty"`
	KubeVersion  string                   `json:"kubeVersion,omitempty"`
	Type         string                   `json:"type,omitempty"`
	Dependencies []map[string]interface{} `json:"dependencies,omitempty"`
}

type chartTemplate struct {
	name string // e.g. mychart/templates/deployment.yaml
	data []byte
}

type Chart struct {
	Meta      *Metadata
	Defaults  map[string]interface{}
	Templates []chartTemplate
	Files     Files
	Deps      []*Chart
}

// walkFollow lists regular files under root, following symlinks (with a
// guard against loops), as Helm's sympath.Walk does.
func walkFollow(root, rel string, seen map[string]bool, fn func(rel, abs string) error) error {
	abs := filepath.Join(root, rel)
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return err
	}
	if seen[real] {
		return fmt.Errorf("symlink loop at %s", abs)
	}
	seen[real] = true
	defer delete(seen, real)
	entries, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, e := range entries {
		childRel := path.Join(rel, e.Name())
		childAbs := filepath.Join(root, filepath.FromSlash(childRel))
		st, err := os.Stat(childAbs) // follows links
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := walkFollow(root, childRel, seen, fn); err != nil {
				return err
			}
		} else if st.Mode().IsRegular() {
			if err := fn(childRel, childAbs); err != nil {
				return err
			}
		}
	}
	return nil
}

// ignoreRules is the subset of .helmignore Helm users write: glob lines,
// matched against the base name or the whole path; "dir/" matches a
// directory and everything below it.
type ignoreRules []string

func readIgnore(dir string) (ignoreRules, error) {
	data, err := os.ReadFile(filepath.Join(dir, ".helmignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r ignoreRules
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			return nil, fmt.Errorf(".helmignore: negation %q is not supported by this harness", line)
		}
		r = append(r, line)
	}
	return r, nil
}

func (r ignoreRules) ignored(rel string) bool {
	parts := strings.Split(rel, "/")
	for _, pat := range r {
		if strings.HasSuffix(pat, "/") {
			d := strings.TrimSuffix(pat, "/")
			for i := 0; i < len(parts)-1; i++ {
				if ok, _ := path.Match(d, parts[i]); ok {
					return true
				}
				if ok, _ := path.Match(d, strings.Join(parts[:i+1], "/")); ok {
					return true
				}
			}
			continue
		}
		for i := range parts {
			if ok, _ := path.Match(pat, parts[i]); ok {
				return true
			}
		}
		if ok, _ := path.Match(pat, rel); ok {
			return true
		}
	}
	return false
}

var semverRe = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func loadChart(dir, prefix string) (*Chart, error) {
	c := &Chart{Files: Files{}, Defaults: map[string]interface{}{}}
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var meta Metadata
	if err := unmarshalYAML(raw, &meta); err != nil {
		return nil, fmt.Errorf("%s/Chart.yaml: %w", dir, err)
	}
	if meta.APIVersion != "v2" {
		return nil, fmt.Errorf("%s/Chart.yaml: apiVersion %q, want v2", dir, meta.APIVersion)
	}
	if meta.Name == "" {
		return nil, fmt.Errorf("%s/Chart.yaml: name is required", dir)
	}
	if !semverRe.MatchString(meta.Version) {
		return nil, fmt.Errorf("%s/Chart.yaml: version %q is not SemVer 2", dir, meta.Version)
	}
	if meta.Type != "" && meta.Type != "application" && meta.Type != "library" {
		return nil, fmt.Errorf("%s/Chart.yaml: type %q", dir, meta.Type)
	}
	c.Meta = &meta
	if prefix == "" {
		prefix = meta.Name
	} else {
		prefix = prefix + "/charts/" + meta.Name
	}

	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if err := unmarshalYAML(raw, &c.Defaults); err != nil {
			return nil, fmt.Errorf("%s/values.yaml: %w", dir, err)
		}
		if c.Defaults == nil {
			c.Defaults = map[string]interface{}{}
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}

	ign, err := readIgnore(dir)
	if err != nil {
		return nil, err
	}
	subcharts := map[string]bool{}
	err = walkFollow(dir, "", map[string]bool{}, func(rel, abs string) error {
		if ign.ignored(rel) {
			return nil
		}
		switch {
		case rel == "Chart.yaml", rel == "values.yaml", rel == "values.schema.json",
			rel == "Chart.lock", rel == ".helmignore":
			return nil
		case strings.HasPrefix(rel, "charts/"):
			rest := strings.TrimPrefix(rel, "charts/")
			if i := strings.Index(rest, "/"); i > 0 {
				subcharts[rest[:i]] = true
				return nil
			}
			return fmt.Errorf("%s: packaged subcharts are not supported", abs)
		case strings.HasPrefix(rel, "templates/"):
			data, err := os.ReadFile(abs)
			if err != nil {
				return err
			}
			c.Templates = append(c.Templates, chartTemplate{name: prefix + "/" + rel, data: data})
			return nil
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		c.Files[rel] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(subcharts))
	for n := range subcharts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sub, err := loadChart(filepath.Join(dir, "charts", n), prefix)
		if err != nil {
			return nil, err
		}
		c.Deps = append(c.Deps, sub)
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// Values.

func deepCopy(v interface{}) interface{} {
	b, _ := json.Marshal(v)
	var out interface{}
	_ = json.Unmarshal(b, &out)
	return out
}

// mergeValues merges src over dst (later -f files win), maps recursively.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// coalesce fills user values with chart defaults: user wins; a user null
// removes the default; maps merge recursively.
func coalesce(user, defaults map[string]interface{}) map[string]interface{} {
	for k, dv := range defaults {
		uv, present := user[k]
		if !present {
			user[k] = deepCopy(dv)
			continue
		}
		if uv == nil {
			delete(user, k)
			continue
		}
		um, uok := uv.(map[string]interface{})
		dm, dok := dv.(map[string]interface{})
		if uok && dok {
			user[k] = coalesce(um, dm)
		} else if uok != dok && dv != nil {
			fmt.Fprintf(os.Stderr, "warning: value %q: overriding a %T with a %T\n", k, dv, uv)
		}
	}
	for k, v := range user { // nulls for keys without a default vanish too
		if v == nil {
			delete(user, k)
		}
	}
	return user
}

// coalesceDeps gives every subchart its defaults under its name and
// propagates `global` downwards.
func coalesceDeps(c *Chart, vals map[string]interface{}) {
	global, _ := vals["global"].(map[string]interface{})
	if global == nil {
		global = map[string]interface{}{}
		vals["global"] = global
	}
	for _, d := range c.Deps {
		sub, _ := vals[d.Meta.Name].(map[string]interface{})
		if sub == nil {
			sub = map[string]interface{}{}
		}
		sub = coalesce(sub, d.Defaults)
		subGlobal, _ := sub["global"].(map[string]interface{})
		if subGlobal == nil {
			subGlobal = map[string]interface{}{}
		}
		sub["global"] = mergeValues(subGlobal, deepCopy(global).(map[string]interface{}))
		vals[d.Meta.Name] = sub
		coalesceDeps(d, sub)
	}
}

// ---------------------------------------------------------------------------
// Render context.

type Release struct {
	Name      string
	Namespace string
	Revision  int
	IsInstall bool
	IsUpgrade bool
	Service   string
}

type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

type templateInfo struct {
	Name     string
	BasePath string
}

type job struct {
	name    string
	context map[string]interface{}
}

// byPathLen sorts deeper templates first so a parent chart's `define`
// (parsed last) wins over a subchart's, as in Helm.
func sortTemplates(ts []chartTemplate) {
	sort.Slice(ts, func(i, j int) bool {
		ci, cj := strings.Count(ts[i].name, "/"), strings.Count(ts[j].name, "/")
		if ci != cj {
			return ci > cj
		}
		return ts[i].name > ts[j].name
	})
}

func collect(c *Chart, vals map[string]interface{}, rel Release, caps *Capabilities,
	all *[]chartTemplate, jobs *[]job, top bool) {
	for _, t := range c.Templates {
		*all = append(*all, t)
		base := path.Base(t.name)
		if strings.HasPrefix(base, "_") || (base == "NOTES.txt" && !top) {
			continue
		}
		ctx := map[string]interface{}{
			"Values":       vals,
			"Release":      rel,
			"Chart":        c.Meta,
			"Files":        c.Files,
			"Capabilities": caps,
			"Template": templateInfo{
				Name:     t.name,
				BasePath: t.name[:strings.Index(t.name, "/templates/")+len("/templates")],
			},
		}
		*jobs = append(*jobs, job{name: t.name, context: ctx})
	}
	for _, d := range c.Deps {
		sub, _ := vals[d.Meta.Name].(map[string]interface{})
		collect(d, sub, rel, caps, all, jobs, false)
	}
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

type manifest struct {
	Source string          `json:"source"`
	Object json.RawMessage `json:"object"`
}

func render(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	chartDir := fs.String("chart", "", "chart directory")
	var valueFiles multiFlag
	fs.Var(&valueFiles, "f", "values file (repeatable)")
	fs.Var(&valueFiles, "values", "values file (repeatable)")
	relName := fs.String("release", "release-name", "release name")
	namespace := fs.String("namespace", "default", "release namespace")
	kubeVersion := fs.String("kube-version", "v1.30.0", "Kubernetes version for .Capabilities")
	apiVersions := fs.String("api-versions", "", "extra API versions for .Capabilities (comma separated)")
	yamlOut := fs.String("yaml", "", "write manifests here instead of stdout")
	jsonOut := fs.String("json", "", "also write values and parsed manifests as JSON here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *chartDir == "" {
		return errors.New("--chart is required")
	}
	c, err := loadChart(*chartDir, "")
	if err != nil {
		return err
	}

	kv, err := semver.NewVersion(*kubeVersion)
	if err != nil {
		return fmt.Errorf("--kube-version: %w", err)
	}
	if c.Meta.KubeVersion != "" {
		con, err := semver.NewConstraint(c.Meta.KubeVersion)
		if err != nil {
			return fmt.Errorf("Chart.yaml kubeVersion: %w", err)
		}
		if !con.Check(kv) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
				c.Meta.KubeVersion, *kubeVersion)
		}
	}
	caps := &Capabilities{
		KubeVersion: KubeVersion{
			Version: "v" + kv.String(), GitVersion: "v" + kv.String(),
			Major: fmt.Sprint(kv.Major()), Minor: fmt.Sprint(kv.Minor()),
		},
		APIVersions: VersionSet{"v1", "apps/v1", "batch/v1", "policy/v1",
			"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
			"apiextensions.k8s.io/v1", "autoscaling/v2"},
		HelmVersion: map[string]string{"Version": "v3.14.0"},
	}
	for _, a := range strings.Split(*apiVersions, ",") {
		if a = strings.TrimSpace(a); a != "" {
			caps.APIVersions = append(caps.APIVersions, a)
		}
	}

	user := map[string]interface{}{}
	for _, f := range valueFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		m := map[string]interface{}{}
		if err := unmarshalYAML(raw, &m); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		user = mergeValues(user, m)
	}
	vals := coalesce(user, c.Defaults)
	coalesceDeps(c, vals)

	rel := Release{Name: *relName, Namespace: *namespace, Revision: 1, IsInstall: true, Service: "Helm"}
	var all []chartTemplate
	var jobs []job
	collect(c, vals, rel, caps, &all, &jobs, true)
	sortTemplates(all)

	e := &engine{included: map[string]int{}}
	t := template.New("gotpl").Option("missingkey=zero").Funcs(e.funcMap())
	for _, ct := range all {
		if _, err := t.New(ct.name).Parse(string(ct.data)); err != nil {
			return err
		}
	}
	t.Funcs(template.FuncMap{"include": e.includeFunc(t), "tpl": e.tplFunc(t)})

	sort.Slice(jobs, func(i, j int) bool { return jobs[i].name < jobs[j].name })
	var out bytes.Buffer
	var manifests []manifest
	for _, j := range jobs {
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, j.name, j.context); err != nil {
			return err
		}
		if path.Base(j.name) == "NOTES.txt" {
			continue
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for _, doc := range docSep.Split(text, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			obj, err := yamlToJSON([]byte(doc), true)
			if err != nil {
				return fmt.Errorf("%s: rendered YAML is invalid: %w\n%s", j.name, err, doc)
			}
			if string(obj) == "null" {
				continue // only comments
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := json.Unmarshal(obj, &head); err != nil || head.APIVersion == "" || head.Kind == "" {
				return fmt.Errorf("%s: document without apiVersion/kind:\n%s", j.name, doc)
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", j.name, strings.Trim(doc, "\n"))
			manifests = append(manifests, manifest{Source: j.name, Object: obj})
		}
	}
	if *yamlOut != "" {
		if err := os.WriteFile(*yamlOut, out.Bytes(), 0o644); err != nil {
			return err
		}
	} else if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if *jsonOut != "" {
		if manifests == nil {
			manifests = []manifest{}
		}
		b, err := json.MarshalIndent(map[string]interface{}{"values": vals, "manifests": manifests}, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func yaml2json(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: helm-render yaml2json FILE|-")
	}
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		return err
	}
	j, err := yamlToJSON(data, true)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	_, err = fmt.Printf("%s\n", j)
	return err
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helm-render render|yaml2json ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "render":
		err = render(os.Args[2:])
	case "yaml2json":
		err = yaml2json(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
}
