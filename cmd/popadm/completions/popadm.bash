# bash completion for popadm. Load it with
#	source <(popadm completion bash)
# or save it as /usr/share/bash-completion/completions/popadm.
_popadm() {
	local line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}} c files=
	local -a words out
	read -ra words <<<"$line"
	[[ -z $line || $line == *[[:space:]] ]] && words+=("")
	local prog=${words[0]} cur=${words[-1]}
	[[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
	while IFS= read -r c; do
		if [[ $c == $'\t'* ]]; then files=1; else out+=("${c%%$'\t'*}"); fi
	done < <("$prog" __complete "${words[@]:1}" 2>/dev/null)
	if [[ $files ]]; then
		compopt -o filenames 2>/dev/null
		local v=${cur#-*=}
		while IFS= read -r c; do out+=("${cur%"$v"}$c"); done < <(compgen -f -- "$v")
	fi
	# Readline replaces only what follows the last of COMP_WORDBREAKS in
	# the word (the ":" of an IPv6 address, "="), or what starts with it
	# for "@" and "$": drop what is before.
	local wb=${COMP_WORDBREAKS//[[:space:]]/} keep=
	[[ $wb ]] && keep=${cur%"${cur##*[$wb]}"}
	[[ $keep == *[@$] ]] && keep=${keep%?}
	COMPREPLY=()
	for c in "${out[@]}"; do
		[[ $c == "$keep"* ]] && COMPREPLY+=("${c#"$keep"}")
	done
}
complete -F _popadm popadm
