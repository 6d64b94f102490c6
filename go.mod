module popd

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/fsnotify/fsnotify v1.10.1
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
)
