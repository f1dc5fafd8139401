package lockfile

import (
	"strings"
)

// gitPrefixes start a git dependency specifier as npm, yarn and pnpm write
// them.
var gitPrefixes = []string{
	"git+ssh://", "git+https://", "git+http://", "git+file://", "git://", "ssh://",
	"github:", "gitlab:", "bitbucket:", "gist:",
}

// localPrefixes start a dependency on the local file system.
var localPrefixes = []string{"file:", "link:", "workspace:", "portal:"}

// isGitSpec reports whether s names a git repository.
func isGitSpec(s string) bool {
	for _, p := range gitPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	if strings.HasPrefix(s, "git@") {
		return true
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		u, _, _ := strings.Cut(s, "#")
		return strings.HasSuffix(u, ".git") || strings.HasPrefix(s, "https://codeload.github.com/")
	}
	return false
}

// isLocalSpec reports whether s names a local path dependency.
func isLocalSpec(s string) bool {
	for _, p := range localPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isHex reports whether s is a plausible git object id.
func isHex(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// commitOf extracts a git commit id from a resolved specifier, or returns
// "". It knows npm's "…#<sha>", yarn Berry's "#commit=<sha>" and
// "#commit:<sha>", and GitHub's codeload tarball URLs.
func commitOf(s string) string {
	if rest, ok := strings.CutPrefix(s, "https://codeload.github.com/"); ok {
		// owner/repo/tar.gz/<sha>
		parts := strings.Split(rest, "/")
		if len(parts) == 4 && parts[2] == "tar.gz" && isHex(parts[3]) {
			return parts[3]
		}
		return ""
	}
	i := strings.LastIndexByte(s, '#')
	if i < 0 {
		return ""
	}
	frag := s[i+1:]
	for _, key := range []string{"commit=", "commit:"} {
		if j := strings.Index(frag, key); j >= 0 {
			c := frag[j+len(key):]
			if k := strings.IndexAny(c, "&"); k >= 0 {
				c = c[:k]
			}
			if isHex(c) {
				return c
			}
			return ""
		}
	}
	head := s[:i]
	if !isGitSpec(head) && !isGitSpec(s) && !isShorthandRepo(head) {
		return ""
	}
	if isHex(frag) {
		return frag
	}
	return ""
}

// isShorthandRepo reports whether s is npm's "owner/repo" GitHub shorthand,
// possibly prefixed by "name@".
func isShorthandRepo(s string) bool {
	if strings.Contains(s, "://") || strings.HasPrefix(s, "@") {
		return false
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	owner, repo, ok := strings.Cut(s, "/")
	return ok && owner != "" && repo != "" && !strings.Contains(repo, "/")
}

// classify returns the origin a resolved specifier implies.
func classify(resolved string) Origin {
	switch {
	case resolved == "":
		return OriginRegistry
	case isLocalSpec(resolved):
		return OriginLocal
	case isGitSpec(resolved) || commitOf(resolved) != "":
		return OriginGit
	case strings.HasPrefix(resolved, "https://") || strings.HasPrefix(resolved, "http://"):
		if IsRegistryTarball(resolved) {
			return OriginRegistry
		}
		return OriginTarball
	}
	return OriginRegistry
}

// IsRegistryTarball reports whether u has the shape of an npm registry
// tarball URL: ".../<name>/-/<file>.tgz".
func IsRegistryTarball(u string) bool {
	u, _, _ = strings.Cut(u, "#")
	u, _, _ = strings.Cut(u, "?")
	return strings.Contains(u, "/-/") && strings.HasSuffix(u, ".tgz")
}
