package main

import (
	"context"
	"fmt"
	"strings"
)

func runCompletion(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("completion", "completion bash|zsh|fish",
		`Print a shell completion script. For example:
  source <(rampart completion bash)
  rampart completion fish > ~/.config/fish/completions/rampart.fish`)
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return c.usageError("completion needs one shell: bash, zsh or fish", "run 'rampart completion bash'")
	}
	var names []string
	for _, cmd := range commands() {
		if !cmd.hidden {
			names = append(names, cmd.name)
		}
	}
	words := strings.Join(names, " ")
	switch pos[0] {
	case "bash":
		fmt.Fprintf(c.stdout, `# bash completion for rampart
_rampart() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _rampart rampart
`, words)
	case "zsh":
		fmt.Fprintf(c.stdout, `#compdef rampart
_rampart() {
  if (( CURRENT == 2 )); then
    compadd -- %s
  else
    _files
  fi
}
compdef _rampart rampart
`, words)
	case "fish":
		for _, cmd := range commands() {
			if !cmd.hidden {
				fmt.Fprintf(c.stdout, "complete -c rampart -n __fish_use_subcommand -a %s -d %q\n", cmd.name, cmd.summary)
			}
		}
	default:
		return c.usageError(fmt.Sprintf("unknown shell %q", pos[0]), "supported shells: bash, zsh, fish")
	}
	return exitOK
}
