/*
 * knode pause: PID 1 of every pod sandbox in the lab (image knode.local/pause:3.10).
 *
 * It holds the pod's namespaces open and does nothing else: it reaps any orphan reparented to it
 * (a PID 1 that does not would fill the pod with zombies) and exits 0 on SIGTERM or SIGINT. A PID 1
 * ignores signals it has no handler for, so the handlers below are what makes it stoppable.
 * Built statically at image build time (gcc -static), so the image needs no libc.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  static const char msg[] = "pause: shutting down\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    static const char v[] = "knode-pause 3.10\n";
    (void)!write(1, v, sizeof v - 1);
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  for (;;) pause();
}
