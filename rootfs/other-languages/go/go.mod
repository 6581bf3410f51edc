module containers-from-scratch/go

go 1.19
