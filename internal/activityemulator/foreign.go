package activityemulator

import "net/http"

// serveForeign stands for any host other than the API: a contentUri that
// names it must never receive the bearer token. It serves nothing, so a
// client that fetches from it also gets no records.
func (s *Server) serveForeign(w http.ResponseWriter, req *http.Request) {
	withAuth := req.Header.Get("Authorization") != ""
	s.update(func(st *Stats) {
		st.ForeignRequests++
		if withAuth {
			st.ForeignWithAuth++
		}
	})
	if withAuth {
		s.violate(req, "an Authorization header was sent to a host other than the API's")
	}
	http.NotFound(w, req)
}
