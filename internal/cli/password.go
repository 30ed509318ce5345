package cli

import (
	"bufio"
	"errors"
	"fmt"
)

// readPassword reads a new password: prompted twice without echo on a
// terminal, otherwise the first line of stdin. Passwords never come from
// argv, where other users of the machine could see them.
func readPassword(env Env, prompt string) (string, error) {
	if env.IsTerminal != nil && env.IsTerminal() && env.ReadPassword != nil {
		fmt.Fprint(env.Stderr, prompt)
		p1, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "again: ")
		p2, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if p1 != p2 {
			return "", errors.New("passwords differ")
		}
		return checkPassword(p1)
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return checkPassword(trimLine(line))
}

func checkPassword(p string) (string, error) {
	if len(p) < 8 {
		return "", errors.New("password shorter than 8 characters")
	}
	if len(p) > 1024 {
		return "", errors.New("password longer than 1024 characters")
	}
	return p, nil
}
