import type { Command } from 'commander';
import { UsageError } from './errors.js';

/** Every command path (`agents list`) with its subcommands and options, from the commander tree. */
function walk(cmd: Command, path: string[], out: Map<string, string[]>): void {
  const words = [
    ...cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]),
    ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x))),
  ];
  out.set(path.join(' '), words);
  for (const c of cmd.commands) walk(c, [...path, c.name()], out);
}

/** A bash or zsh completion script: subcommands and options by position in the command path. */
export function completionScript(program: Command, shell: string): string {
  const paths = new Map<string, string[]>();
  walk(program, [], paths);
  const globals = program.options.flatMap((o) => [o.long, o.short].filter(Boolean)).join(' ');
  const cases = [...paths]
    .map(([p, words]) => `    "${p}") words="${words.join(' ')} ${p ? globals : ''}" ;;`)
    .join('\n');
  const body = `_comms_api() {
  local cur path="" w words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if _comms_api_words "\${path:+$path }$w" >/dev/null; then path="\${path:+$path }$w"; fi
  done
  words="$(_comms_api_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_comms_api_words() {
  local words
  case "$1" in
${cases}
    *) return 1 ;;
  esac
  echo "$words"
}
`;
  if (shell === 'zsh') return `#compdef comms-api\nautoload -U +X bashcompinit && bashcompinit\n${body}complete -o default -F _comms_api comms-api\n`;
  if (shell === 'bash') return `# comms-api bash completion: source <(comms-api completion bash)\n${body}complete -o default -F _comms_api comms-api\n`;
  throw new UsageError(`completion: unknown shell "${shell}" (bash or zsh)`);
}
