package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// commandTree lists the subcommands of commands that have them, by command
// path ("audit", "audit db").
var commandTree = map[string][]string{
	"audit":      {"deps", "config", "db"},
	"audit db":   {"update"},
	"users":      {"add", "passwd", "lock", "unlock", "locks", "list"},
	"completion": {"bash", "zsh", "fish"},
}

// completionWords returns the words to complete: the top-level commands,
// the subcommands of each command path, and the flags of each command path
// that has a flag set. Flags are read from the commands' own flag sets (by
// running each with --help into a discarded writer), so they cannot drift
// from what the commands accept.
func completionWords(ctx context.Context) (commands []string, subcommands, flags map[string][]string) {
	commands = commandNames()
	subcommands = map[string][]string{}
	for k, v := range commandTree {
		subcommands[k] = v
	}
	subcommands["help"] = append(append([]string(nil), commands...), "config")
	flags = map[string][]string{}
	var paths [][]string
	for _, name := range commands {
		if subs, ok := commandTree[name]; ok && name != "completion" {
			for _, s := range subs {
				if deeper, ok := commandTree[name+" "+s]; ok {
					for _, d := range deeper {
						paths = append(paths, []string{name, s, d})
					}
					continue
				}
				paths = append(paths, []string{name, s})
			}
			continue
		}
		if name != "help" {
			paths = append(paths, []string{name})
		}
	}
	for _, path := range paths {
		probe := newCLI(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
		probe.main(ctx, append(append([]string(nil), path...), "--help"))
		for fs := range probe.helpers {
			key := strings.TrimPrefix(fs.Name(), "rampart ")
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
			sort.Strings(names)
			flags[key] = names
		}
	}
	return commands, subcommands, flags
}

func runCompletion(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("completion", "completion bash|zsh|fish",
		`Print a shell completion script for commands, subcommands and flags.
For example:
  source <(rampart completion bash)
  rampart completion zsh > "${fpath[1]}/_rampart"
  rampart completion fish > ~/.config/fish/completions/rampart.fish`)
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return c.usageError("completion needs one shell: bash, zsh or fish", "run 'rampart completion bash'")
	}
	commands, subs, flags := completionWords(ctx)
	switch pos[0] {
	case "bash", "zsh":
		writeShellCompletion(c.stdout, pos[0], commands, subs, flags)
	case "fish":
		writeFishCompletion(c.stdout, commands, subs, flags)
	default:
		return c.usageError(fmt.Sprintf("unknown shell %q", pos[0]), didYouMean(pos[0], []string{"bash", "zsh", "fish"})+"supported shells: bash, zsh, fish")
	}
	return exitOK
}

// writeShellCompletion writes a bash completion function; zsh runs it
// through bashcompinit.
func writeShellCompletion(w io.Writer, shell string, commands []string, subs, flags map[string][]string) {
	if shell == "zsh" {
		fmt.Fprintln(w, "#compdef rampart")
		fmt.Fprintln(w, "autoload -U +X bashcompinit && bashcompinit")
	} else {
		fmt.Fprintln(w, "# bash completion for rampart")
	}
	fmt.Fprintln(w, `_rampart() {
  local cur="${COMP_WORDS[COMP_CWORD]}" path="" i w words
  # The command path: the words before the cursor that are not flags,
  # as long as they name a known command or subcommand.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if [ -z "$path" ]; then path="$w"; elif _rampart_subs "$path" | grep -qx -- "$w"; then path="$path $w"; else break; fi
  done
  if [ -z "$path" ]; then
    COMPREPLY=($(compgen -W "`+strings.Join(commands, " ")+`" -- "$cur"))
    return
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_rampart_flags "$path")" -- "$cur"))
    return
  fi
  words="$(_rampart_subs "$path")"
  if [ -n "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
_rampart_subs() {
  case "$1" in`)
	for _, k := range sortedKeys(subs) {
		fmt.Fprintf(w, "    %q) echo %q | tr ' ' '\\n' ;;\n", k, strings.Join(subs[k], " "))
	}
	fmt.Fprintln(w, `  esac
}
_rampart_flags() {
  case "$1" in`)
	for _, k := range sortedKeys(flags) {
		fmt.Fprintf(w, "    %q) echo %q ;;\n", k, strings.Join(append(flags[k], "--help"), " "))
	}
	fmt.Fprintln(w, `    *) echo "--help" ;;
  esac
}
complete -F _rampart rampart`)
}

// writeFishCompletion writes fish completions: commands, subcommands and
// flags, each offered only after its command path.
func writeFishCompletion(w io.Writer, names []string, subs, flags map[string][]string) {
	fmt.Fprintln(w, "# fish completion for rampart")
	summaries := map[string]string{}
	for _, cmd := range commands() {
		summaries[cmd.name] = cmd.summary
	}
	for _, name := range names {
		fmt.Fprintf(w, "complete -c rampart -f -n __fish_use_subcommand -a %s -d %q\n", name, summaries[name])
	}
	cond := func(path string) string {
		var parts []string
		for _, p := range strings.Fields(path) {
			parts = append(parts, "__fish_seen_subcommand_from "+p)
		}
		return strings.Join(parts, "; and ")
	}
	for _, k := range sortedKeys(subs) {
		fmt.Fprintf(w, "complete -c rampart -f -n %q -a %q\n", cond(k), strings.Join(subs[k], " "))
	}
	for _, k := range sortedKeys(flags) {
		for _, f := range flags[k] {
			fmt.Fprintf(w, "complete -c rampart -n %q -l %s\n", cond(k), strings.TrimPrefix(f, "--"))
		}
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
