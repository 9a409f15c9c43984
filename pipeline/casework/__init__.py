"""Cases (phiếu phản ánh) and the working days of their deadlines."""
