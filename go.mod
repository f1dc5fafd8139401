module github.com/rampartsec/rampart

go 1.26.8

require (
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/mod v0.43.0
)
