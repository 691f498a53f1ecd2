package mail

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// imapHTMLText reduces an HTML mail body to plain text: the text of the
// document with line breaks where blocks end, links written as
// "text (address)", and nothing of scripts, styles, the head or embedded
// objects. The result is text, never markup, so nothing in it can run in
// the staff's browser. It stops after max bytes.
//
// It uses the tokenizer of golang.org/x/net/html, which reads HTML the
// way browsers do (HTML5 tokenization, entities decoded), so that text
// hidden in a broken tag or a comment is not taken for content.
func imapHTMLText(src string, max int) string {
	z := html.NewTokenizerFragment(strings.NewReader(src), "div")
	var b strings.Builder
	skip := 0       // depth inside elements whose content is not text
	var href string // the open link's address
	linkText := 0   // where the open link's text starts in b
	space := false  // a space is pending before the next word
	newline := func(n int) {
		s := b.String()
		have := len(s) - len(strings.TrimRight(s, "\n"))
		if len(s) == 0 {
			return
		}
		for ; have < n; have++ {
			b.WriteByte('\n')
		}
		space = false
	}
	for b.Len() < max {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return imapTruncate(b.String(), max)
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if strings.TrimSpace(text) == "" {
				if text != "" {
					space = true
				}
				continue
			}
			if text[0] == ' ' || text[0] == '\n' || text[0] == '\t' || text[0] == '\r' {
				space = true
			}
			words := strings.Fields(text)
			for i, w := range words {
				s := b.String()
				if (space || i > 0) && len(s) > 0 && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " ") {
					b.WriteByte(' ')
				}
				b.WriteString(w)
				space = false
			}
			last := text[len(text)-1]
			space = last == ' ' || last == '\n' || last == '\t' || last == '\r'
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			end := tt == html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template,
				atom.Iframe, atom.Object, atom.Svg, atom.Math, atom.Select, atom.Textarea:
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch a {
			case atom.Br:
				newline(1)
			case atom.P, atom.Div, atom.Table, atom.Blockquote, atom.Pre, atom.H1, atom.H2, atom.H3,
				atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Section, atom.Article, atom.Header,
				atom.Footer, atom.Hr, atom.Center, atom.Address:
				newline(2)
			case atom.Tr, atom.Dt, atom.Dd:
				newline(1)
			case atom.Td, atom.Th:
				if !end {
					space = true
				}
			case atom.Li:
				newline(1)
				if !end {
					b.WriteString("- ")
				}
			case atom.Img:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && strings.TrimSpace(string(v)) != "" {
						if space && b.Len() > 0 {
							b.WriteByte(' ')
						}
						b.WriteString("[" + strings.Join(strings.Fields(string(v)), " ") + "]")
						space = true
					}
				}
			case atom.A:
				if !end {
					href, linkText = "", b.Len()
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = strings.TrimSpace(string(v))
						}
					}
					continue
				}
				lower := strings.ToLower(href)
				if (strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) &&
					!strings.Contains(b.String()[linkText:], href) {
					b.WriteString(" (" + href + ")")
				} else if len(href) > 7 && strings.EqualFold(href[:7], "mailto:") && !strings.Contains(b.String()[linkText:], href[7:]) {
					b.WriteString(" (" + href[7:] + ")")
				}
				href = ""
			}
		}
	}
	return imapTruncate(b.String(), max)
}
