# bench/lib.sh - helpers the benchmark scripts share (sourced, not run).

# free_port: a TCP port free on 127.0.0.1 right now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# wait_http PORT [PATH]: any HTTP answer on PATH (default /health), within
# WAIT_HTTP_TRIES x 50 ms (default 10 s; valgrind runs need longer).
wait_http() {
  for _ in $(seq "${WAIT_HTTP_TRIES:-200}"); do
    curl -s -o /dev/null -m 1 "http://127.0.0.1:$1${2:-/health}" && return 0
    sleep 0.05
  done
  return 1
}

# cpu_ns PID: CPU time of every thread of a process so far, in ns
# (schedstat: precise, unlike the 10 ms ticks of /proc/PID/stat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }

# median: the median of the numbers on stdin, one per line (the mean of the
# middle two for an even count).
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
