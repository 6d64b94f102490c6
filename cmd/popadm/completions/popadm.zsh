#compdef popadm
# zsh completion for popadm. Load it with
#	source <(popadm completion zsh)
# after compinit, or save it as _popadm in a directory of $fpath.
_popadm() {
	local c v d
	local -a out cands
	out=("${(@f)$(${(Q)words[1]} __complete "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")
	for c in "${out[@]}"; do
		if [[ $c == $'\t'* ]]; then
			compset -P '-*='
			_files
			return
		fi
		[[ -n $c ]] || continue
		v=${c%%$'\t'*} d=
		[[ $c == *$'\t'* ]] && d=${c#*$'\t'}
		cands+=("${v//:/\\:}${d:+:$d}")
	done
	_describe -t values popadm cands
}
if [[ $funcstack[1] == _popadm ]]; then _popadm "$@"; else compdef _popadm popadm; fi
