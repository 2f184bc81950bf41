module github.com/hookd/hookd/client

go 1.25
