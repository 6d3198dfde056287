// tlspeer: a Go HTTPS server and client for qtap's end-to-end tests
// (standard library only; built by the tests with Debian's Go 1.19).
//
//	tlspeer serve CERT KEY                 prints "READY <port>"; HTTP/2 and HTTP/1.1
//	tlspeer get URL CA N BODY H1|H2        N concurrent POSTs of BODY bytes, one
//	                                       connection each; prints "ok <i> <status> <len>"
//	tlspeer load URL CA CONNS SECONDS BODY  keep-alive HTTP/1.1 POSTs of BODY bytes from
//	                                       CONNS connections for SECONDS; prints "rps <n>"
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func serve(cert, key string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Go-Proto", r.Proto)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	srv := &http.Server{Handler: mux}
	panic(srv.ServeTLS(ln, cert, key))
}

func get(url, ca string, n, size int, h1 bool) {
	pem, err := os.ReadFile(ca)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: !h1}
			if h1 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			client := &http.Client{Transport: tr}
			resp, err := client.Post(fmt.Sprintf("%s-%d", url, i), "application/octet-stream", bytes.NewReader(payload))
			if err != nil {
				fmt.Printf("error %d %v\n", i, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			tr.CloseIdleConnections()
			fmt.Printf("ok %d %d %d %s\n", i, resp.StatusCode, len(body), resp.Proto)
		}(i)
	}
	wg.Wait()
}

func load(url, ca string, conns, seconds, size int) {
	pem, err := os.ReadFile(ca)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	payload := bytes.Repeat([]byte("q"), size)
	var done atomic.Int64
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 1,
				TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
			client := &http.Client{Transport: tr}
			for time.Now().Before(deadline) {
				resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(payload))
				if err != nil {
					panic(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("rps %.0f\n", float64(done.Load())/time.Since(start).Seconds())
}

func main() {
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2], os.Args[3])
	case "load":
		conns, _ := strconv.Atoi(os.Args[4])
		seconds, _ := strconv.Atoi(os.Args[5])
		size, _ := strconv.Atoi(os.Args[6])
		load(os.Args[2], os.Args[3], conns, seconds, size)
	case "get":
		n, _ := strconv.Atoi(os.Args[4])
		size, _ := strconv.Atoi(os.Args[5])
		get(os.Args[2], os.Args[3], n, size, os.Args[6] == "H1")
	}
}
