package e2e

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

type svgDot struct{ label, quadrant string }

type svgChart struct {
	root          string
	dots          map[string]svgDot // by dimension
	lines         map[string]string // quadrant lines: axis -> data-value
	axisLabels    map[string]bool
	quadrantNames []string
}

// parseSVG reads the chart with encoding/xml (so it must be well-formed)
// and collects its parts by class.
func parseSVG(t *testing.T, body []byte) svgChart {
	t.Helper()
	c := svgChart{dots: map[string]svgDot{}, lines: map[string]string{}, axisLabels: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []xml.StartElement
	dim := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, body)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if c.root == "" {
				c.root = x.Name.Local
				if x.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("SVG namespace %q", x.Name.Space)
				}
			}
			attr := func(name string) string {
				for _, a := range x.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch {
			case x.Name.Local == "g" && attr("class") == "dimension":
				dim = attr("data-dimension")
				c.dots[dim] = svgDot{quadrant: attr("data-quadrant")}
			case x.Name.Local == "line" && attr("class") == "quadrant-line":
				c.lines[attr("data-axis")] = attr("data-value")
			case x.Name.Local == "script" || attr("href") != "":
				t.Fatalf("the SVG is not self-contained: %s", x.Name.Local)
			}
			stack = append(stack, x)
		case xml.EndElement:
			if x.Name.Local == "g" {
				dim = ""
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 || stack[len(stack)-1].Name.Local != "text" {
				continue
			}
			class := ""
			for _, a := range stack[len(stack)-1].Attr {
				if a.Name.Local == "class" {
					class = a.Value
				}
			}
			text := strings.TrimSpace(string(x))
			switch class {
			case "axis-label":
				c.axisLabels[text] = true
			case "quadrant-name":
				c.quadrantNames = append(c.quadrantNames, text)
			case "dot-label":
				d := c.dots[dim]
				d.label = text
				c.dots[dim] = d
			}
		}
	}
	return c
}
