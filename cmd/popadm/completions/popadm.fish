# fish completion for popadm. Load it with
#	popadm completion fish | source
# or save it as ~/.config/fish/completions/popadm.fish.
function __popadm_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
    if string match -q -- \t'*' $out[1]
        set -l v (string replace -r -- '^-[^=]*=' '' "$cur")
        set -l p (string sub -l (math (string length -- "$cur") - (string length -- "$v")) -- "$cur")
        __fish_complete_path "$v" | string replace -r -- '^' "$p"
        return
    end
    printf '%s\n' $out
end
complete -c popadm -f -a '(__popadm_complete)'
